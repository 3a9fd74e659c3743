using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Core.Data.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            // Pipeline runs recorded before the column named their pipeline only in their parameters.
            migrationBuilder.Sql("""
                UPDATE core_runs SET "SubjectId" = upper(json_extract("ParametersJson", '$.pipelineId')) WHERE "Kind" = 'features.pipeline' AND json_extract("ParametersJson", '$.pipelineId') IS NOT NULL;
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
