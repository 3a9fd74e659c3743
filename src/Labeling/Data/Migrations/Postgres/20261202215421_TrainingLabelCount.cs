using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Labeling.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class TrainingLabelCount : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "PrelabelSoleClass",
                table: "labeling_projects",
                type: "character varying(200)",
                maxLength: 200,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "TrainingLabelCount",
                table: "labeling_projects",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            // Projects that already pre-label automatically start with their standing labels counted.
            migrationBuilder.Sql("""
                UPDATE labeling_projects SET "TrainingLabelCount" = (
                    SELECT COUNT(*) FROM labeling_annotations a
                    WHERE a."LabelingProjectId" = labeling_projects."Id"
                      AND (a."Status" = 'Accepted' OR (a."Status" = 'Submitted' AND a."ReviewState" = 'NotSampled')))
                WHERE "AutoPrelabelEvery" IS NOT NULL;
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "PrelabelSoleClass",
                table: "labeling_projects");

            migrationBuilder.DropColumn(
                name: "TrainingLabelCount",
                table: "labeling_projects");
        }
    }
}
