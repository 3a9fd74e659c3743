using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Labeling.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Predictions : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "labeling_predictions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ModelVersion = table.Column<string>(type: "TEXT", maxLength: 200, nullable: true),
                    ResultJson = table.Column<string>(type: "TEXT", nullable: false),
                    Score = table.Column<double>(type: "REAL", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_predictions", x => x.Id);
                    table.CheckConstraint("ck_labeling_predictions_score", "\"Score\" IS NULL OR (\"Score\" >= 0 AND \"Score\" <= 1)");
                    table.ForeignKey(
                        name: "FK_labeling_predictions_labeling_tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "labeling_tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_predictions_LabelingProjectId_Score",
                table: "labeling_predictions",
                columns: new[] { "LabelingProjectId", "Score" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_predictions_TaskId",
                table: "labeling_predictions",
                column: "TaskId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "labeling_predictions");
        }
    }
}
