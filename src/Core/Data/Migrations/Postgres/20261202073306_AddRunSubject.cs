using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Core.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddRunSubject : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "SubjectId",
                table: "core_runs",
                type: "uuid",
                nullable: true);

            // Pipeline runs recorded before the column named their pipeline only in their parameters.
            migrationBuilder.Sql("""
                UPDATE core_runs SET "SubjectId" = ("ParametersJson"::json ->> 'pipelineId')::uuid WHERE "Kind" = 'features.pipeline' AND "ParametersJson"::json ->> 'pipelineId' IS NOT NULL;
                """);

            migrationBuilder.CreateIndex(
                name: "IX_core_runs_SubjectId_Kind",
                table: "core_runs",
                columns: new[] { "SubjectId", "Kind" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_core_runs_SubjectId_Kind",
                table: "core_runs");

            migrationBuilder.DropColumn(
                name: "SubjectId",
                table: "core_runs");
        }
    }
}
