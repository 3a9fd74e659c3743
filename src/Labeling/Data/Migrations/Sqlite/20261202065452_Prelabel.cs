using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Labeling.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Prelabel : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "AutoPrelabelEvery",
                table: "labeling_projects",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "PrelabelMark",
                table: "labeling_projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "labeling_model_endpoints",
                columns: table => new
                {
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Url = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    Token = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    Model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    BatchSize = table.Column<int>(type: "INTEGER", nullable: false),
                    TimeoutSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    UpdatedBy = table.Column<Guid>(type: "TEXT", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_model_endpoints", x => x.LabelingProjectId);
                    table.ForeignKey(
                        name: "FK_labeling_model_endpoints_labeling_projects_LabelingProjectId",
                        column: x => x.LabelingProjectId,
                        principalTable: "labeling_projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_predictions_LabelingProjectId_Model",
                table: "labeling_predictions",
                columns: new[] { "LabelingProjectId", "Model" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "labeling_model_endpoints");

            migrationBuilder.DropIndex(
                name: "IX_labeling_predictions_LabelingProjectId_Model",
                table: "labeling_predictions");

            migrationBuilder.DropColumn(
                name: "AutoPrelabelEvery",
                table: "labeling_projects");

            migrationBuilder.DropColumn(
                name: "PrelabelMark",
                table: "labeling_projects");
        }
    }
}
