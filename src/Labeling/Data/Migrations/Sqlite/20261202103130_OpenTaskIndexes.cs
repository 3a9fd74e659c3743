using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Labeling.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class OpenTaskIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_labeling_tasks_LabelingProjectId_IsGold_Priority_Ordinal",
                table: "labeling_tasks");

            migrationBuilder.DropIndex(
                name: "IX_labeling_tasks_LabelingProjectId_IsGold_RandomKey",
                table: "labeling_tasks");

            migrationBuilder.CreateIndex(
                name: "ix_labeling_tasks_incomplete",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold" },
                filter: "\"Completed\" < \"Required\"");

            migrationBuilder.CreateIndex(
                name: "ix_labeling_tasks_open_priority",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "Priority", "Ordinal" },
                descending: new[] { false, false, true, false },
                filter: "\"Reserved\" < \"Required\"");

            migrationBuilder.CreateIndex(
                name: "ix_labeling_tasks_open_random",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "RandomKey", "Ordinal" },
                filter: "\"Reserved\" < \"Required\"");

            migrationBuilder.CreateIndex(
                name: "ix_labeling_tasks_open_sequential",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "Ordinal" },
                filter: "\"Reserved\" < \"Required\"");

            migrationBuilder.CreateIndex(
                name: "IX_labeling_assignments_LabelingProjectId_AnnotatorId_Status",
                table: "labeling_assignments",
                columns: new[] { "LabelingProjectId", "AnnotatorId", "Status" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_labeling_tasks_incomplete",
                table: "labeling_tasks");

            migrationBuilder.DropIndex(
                name: "ix_labeling_tasks_open_priority",
                table: "labeling_tasks");

            migrationBuilder.DropIndex(
                name: "ix_labeling_tasks_open_random",
                table: "labeling_tasks");

            migrationBuilder.DropIndex(
                name: "ix_labeling_tasks_open_sequential",
                table: "labeling_tasks");

            migrationBuilder.DropIndex(
                name: "IX_labeling_assignments_LabelingProjectId_AnnotatorId_Status",
                table: "labeling_assignments");

            migrationBuilder.CreateIndex(
                name: "IX_labeling_tasks_LabelingProjectId_IsGold_Priority_Ordinal",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "Priority", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_tasks_LabelingProjectId_IsGold_RandomKey",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "RandomKey" });
        }
    }
}
