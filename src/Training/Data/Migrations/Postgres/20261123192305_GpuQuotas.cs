using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Training.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class GpuQuotas : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Gpus",
                table: "training_jobs",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "training_gpu_quotas",
                columns: table => new
                {
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    MaxGpus = table.Column<int>(type: "integer", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_gpu_quotas", x => x.ProjectId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_ProjectId_State",
                table: "training_jobs",
                columns: new[] { "ProjectId", "State" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "training_gpu_quotas");

            migrationBuilder.DropIndex(
                name: "IX_training_jobs_ProjectId_State",
                table: "training_jobs");

            migrationBuilder.DropColumn(
                name: "Gpus",
                table: "training_jobs");
        }
    }
}
