using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Features.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "features_pipelines",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    LatestVersion = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    RowVersion = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_features_pipelines", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "features_pipeline_versions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    PipelineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Number = table.Column<int>(type: "INTEGER", nullable: false),
                    SpecJson = table.Column<string>(type: "TEXT", nullable: false),
                    AuthorId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_features_pipeline_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_features_pipeline_versions_features_pipelines_PipelineId",
                        column: x => x.PipelineId,
                        principalTable: "features_pipelines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "features_fitted_states",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    PipelineId = table.Column<Guid>(type: "TEXT", nullable: false),
                    PipelineVersionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    RunId = table.Column<Guid>(type: "TEXT", nullable: true),
                    StateJson = table.Column<string>(type: "TEXT", nullable: false),
                    OutputVersionId = table.Column<Guid>(type: "TEXT", nullable: true),
                    OutputRows = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_features_fitted_states", x => x.Id);
                    table.ForeignKey(
                        name: "FK_features_fitted_states_features_pipeline_versions_PipelineVersionId",
                        column: x => x.PipelineVersionId,
                        principalTable: "features_pipeline_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_features_fitted_states_features_pipelines_PipelineId",
                        column: x => x.PipelineId,
                        principalTable: "features_pipelines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_features_fitted_states_PipelineId_CreatedAt",
                table: "features_fitted_states",
                columns: new[] { "PipelineId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_features_fitted_states_PipelineVersionId",
                table: "features_fitted_states",
                column: "PipelineVersionId");

            migrationBuilder.CreateIndex(
                name: "IX_features_pipeline_versions_PipelineId_Number",
                table: "features_pipeline_versions",
                columns: new[] { "PipelineId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_features_pipelines_ProjectId_Name",
                table: "features_pipelines",
                columns: new[] { "ProjectId", "Name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "features_fitted_states");

            migrationBuilder.DropTable(
                name: "features_pipeline_versions");

            migrationBuilder.DropTable(
                name: "features_pipelines");
        }
    }
}
