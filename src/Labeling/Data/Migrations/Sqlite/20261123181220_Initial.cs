using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Labeling.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "labeling_history",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: true),
                    AnnotationId = table.Column<Guid>(type: "TEXT", nullable: true),
                    ActorId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Action = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    DetailJson = table.Column<string>(type: "TEXT", nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_history", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "labeling_projects",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    Instructions = table.Column<string>(type: "TEXT", maxLength: 20000, nullable: true),
                    ConfigJson = table.Column<string>(type: "TEXT", nullable: false),
                    Overlap = table.Column<int>(type: "INTEGER", nullable: false),
                    Ordering = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    GoldRate = table.Column<double>(type: "REAL", nullable: false),
                    ReviewRate = table.Column<double>(type: "REAL", nullable: false),
                    LeaseSeconds = table.Column<int>(type: "INTEGER", nullable: false),
                    State = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    SourceDatasetId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SourceVersionId = table.Column<Guid>(type: "TEXT", nullable: true),
                    SourceTable = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: true),
                    SourceColumn = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    CreatedBy = table.Column<Guid>(type: "TEXT", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    NextOrdinal = table.Column<long>(type: "INTEGER", nullable: false),
                    Version = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_projects", x => x.Id);
                    table.CheckConstraint("ck_labeling_projects_overlap", "\"Overlap\" >= 1");
                    table.CheckConstraint("ck_labeling_projects_rates", "\"GoldRate\" >= 0 AND \"GoldRate\" <= 1 AND \"ReviewRate\" >= 0 AND \"ReviewRate\" <= 1");
                });

            migrationBuilder.CreateTable(
                name: "labeling_tasks",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ordinal = table.Column<long>(type: "INTEGER", nullable: false),
                    RandomKey = table.Column<int>(type: "INTEGER", nullable: false),
                    Priority = table.Column<int>(type: "INTEGER", nullable: false),
                    IsGold = table.Column<bool>(type: "INTEGER", nullable: false),
                    GoldAnswerJson = table.Column<string>(type: "TEXT", nullable: true),
                    DataJson = table.Column<string>(type: "TEXT", nullable: false),
                    Required = table.Column<int>(type: "INTEGER", nullable: false),
                    Reserved = table.Column<int>(type: "INTEGER", nullable: false),
                    Completed = table.Column<int>(type: "INTEGER", nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_tasks", x => x.Id);
                    table.CheckConstraint("ck_labeling_tasks_completed", "\"Completed\" >= 0 AND \"Completed\" <= \"Reserved\"");
                    table.CheckConstraint("ck_labeling_tasks_reserved", "\"Reserved\" >= 0 AND \"Reserved\" <= \"Required\"");
                    table.ForeignKey(
                        name: "FK_labeling_tasks_labeling_projects_LabelingProjectId",
                        column: x => x.LabelingProjectId,
                        principalTable: "labeling_projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "labeling_annotations",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AnnotatorId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    ResultJson = table.Column<string>(type: "TEXT", nullable: true),
                    SkipReason = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    TimeSpentMs = table.Column<long>(type: "INTEGER", nullable: false),
                    ReviewState = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    UpdatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    SubmittedAt = table.Column<long>(type: "INTEGER", nullable: true),
                    Version = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_annotations", x => x.Id);
                    table.ForeignKey(
                        name: "FK_labeling_annotations_labeling_tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "labeling_tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "labeling_assignments",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AnnotatorId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    LeasedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false),
                    FinishedAt = table.Column<long>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_assignments", x => x.Id);
                    table.ForeignKey(
                        name: "FK_labeling_assignments_labeling_tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "labeling_tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "labeling_reviews",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    LabelingProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    AnnotationId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ReviewerId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Decision = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    Comment = table.Column<string>(type: "TEXT", maxLength: 4000, nullable: true),
                    CorrectedResultJson = table.Column<string>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_labeling_reviews", x => x.Id);
                    table.ForeignKey(
                        name: "FK_labeling_reviews_labeling_annotations_AnnotationId",
                        column: x => x.AnnotationId,
                        principalTable: "labeling_annotations",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_annotations_LabelingProjectId_AnnotatorId_Status",
                table: "labeling_annotations",
                columns: new[] { "LabelingProjectId", "AnnotatorId", "Status" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_annotations_LabelingProjectId_ReviewState",
                table: "labeling_annotations",
                columns: new[] { "LabelingProjectId", "ReviewState" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_annotations_TaskId_AnnotatorId",
                table: "labeling_annotations",
                columns: new[] { "TaskId", "AnnotatorId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_labeling_assignments_LabelingProjectId_Status_ExpiresAt",
                table: "labeling_assignments",
                columns: new[] { "LabelingProjectId", "Status", "ExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "ix_labeling_assignments_one_active",
                table: "labeling_assignments",
                columns: new[] { "LabelingProjectId", "AnnotatorId" },
                unique: true,
                filter: "\"Status\" = 'Active'");

            migrationBuilder.CreateIndex(
                name: "IX_labeling_assignments_TaskId_AnnotatorId",
                table: "labeling_assignments",
                columns: new[] { "TaskId", "AnnotatorId" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_labeling_history_LabelingProjectId_TaskId",
                table: "labeling_history",
                columns: new[] { "LabelingProjectId", "TaskId" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_projects_ProjectId_Name",
                table: "labeling_projects",
                columns: new[] { "ProjectId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_labeling_reviews_AnnotationId",
                table: "labeling_reviews",
                column: "AnnotationId");

            migrationBuilder.CreateIndex(
                name: "IX_labeling_reviews_LabelingProjectId",
                table: "labeling_reviews",
                column: "LabelingProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_labeling_tasks_LabelingProjectId_IsGold_Priority_Ordinal",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "Priority", "Ordinal" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_tasks_LabelingProjectId_IsGold_RandomKey",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "IsGold", "RandomKey" });

            migrationBuilder.CreateIndex(
                name: "IX_labeling_tasks_LabelingProjectId_Ordinal",
                table: "labeling_tasks",
                columns: new[] { "LabelingProjectId", "Ordinal" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "labeling_assignments");

            migrationBuilder.DropTable(
                name: "labeling_history");

            migrationBuilder.DropTable(
                name: "labeling_reviews");

            migrationBuilder.DropTable(
                name: "labeling_annotations");

            migrationBuilder.DropTable(
                name: "labeling_tasks");

            migrationBuilder.DropTable(
                name: "labeling_projects");
        }
    }
}
