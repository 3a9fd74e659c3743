using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Cube.Training.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "training_jobs",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Experiment = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Distribution = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Framework = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    SpecJson = table.Column<string>(type: "text", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    SubmittedBy = table.Column<Guid>(type: "uuid", nullable: true),
                    Message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Error = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    ExitCode = table.Column<int>(type: "integer", nullable: true),
                    LogLineCount = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    StartedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_jobs", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "training_models",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    LatestVersion = table.Column<int>(type: "integer", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_models", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "training_artifacts",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    ObjectKey = table.Column<string>(type: "character varying(1200)", maxLength: 1200, nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_artifacts", x => new { x.JobId, x.Path });
                    table.ForeignKey(
                        name: "FK_training_artifacts_training_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_job_inputs",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Dataset = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    VersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    VersionNumber = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_job_inputs", x => new { x.JobId, x.Name });
                    table.ForeignKey(
                        name: "FK_training_job_inputs_training_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_job_params",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Value = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_job_params", x => new { x.JobId, x.Key });
                    table.ForeignKey(
                        name: "FK_training_job_params_training_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_logs",
                columns: table => new
                {
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Sequence = table.Column<long>(type: "bigint", nullable: false),
                    Source = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Text = table.Column<string>(type: "text", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_logs", x => new { x.JobId, x.Sequence });
                    table.ForeignKey(
                        name: "FK_training_logs_training_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_metrics",
                columns: table => new
                {
                    Id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Step = table.Column<long>(type: "bigint", nullable: false),
                    Value = table.Column<double>(type: "double precision", nullable: false),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_metrics", x => x.Id);
                    table.ForeignKey(
                        name: "FK_training_metrics_training_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_model_versions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ModelId = table.Column<Guid>(type: "uuid", nullable: false),
                    Number = table.Column<int>(type: "integer", nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: false),
                    ArtifactPath = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    ObjectKey = table.Column<string>(type: "character varying(1200)", maxLength: 1200, nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    Flavor = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    MetricsJson = table.Column<string>(type: "text", nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_model_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_training_model_versions_training_jobs_JobId",
                        column: x => x.JobId,
                        principalTable: "training_jobs",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "FK_training_model_versions_training_models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "training_models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_model_aliases",
                columns: table => new
                {
                    ModelId = table.Column<Guid>(type: "uuid", nullable: false),
                    Alias = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    VersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_model_aliases", x => new { x.ModelId, x.Alias });
                    table.ForeignKey(
                        name: "FK_training_model_aliases_training_model_versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "training_model_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_training_model_aliases_training_models_ModelId",
                        column: x => x.ModelId,
                        principalTable: "training_models",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "training_model_lineage",
                columns: table => new
                {
                    ModelVersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetVersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Dataset = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    VersionNumber = table.Column<int>(type: "integer", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_model_lineage", x => new { x.ModelVersionId, x.DatasetVersionId });
                    table.ForeignKey(
                        name: "FK_training_model_lineage_training_model_versions_ModelVersion~",
                        column: x => x.ModelVersionId,
                        principalTable: "training_model_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_training_job_inputs_VersionId",
                table: "training_job_inputs",
                column: "VersionId");

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_ProjectId_Experiment",
                table: "training_jobs",
                columns: new[] { "ProjectId", "Experiment" });

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_ProjectId_Id",
                table: "training_jobs",
                columns: new[] { "ProjectId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_RunId",
                table: "training_jobs",
                column: "RunId");

            migrationBuilder.CreateIndex(
                name: "IX_training_metrics_JobId_Name_Step",
                table: "training_metrics",
                columns: new[] { "JobId", "Name", "Step" });

            migrationBuilder.CreateIndex(
                name: "IX_training_model_aliases_VersionId",
                table: "training_model_aliases",
                column: "VersionId");

            migrationBuilder.CreateIndex(
                name: "IX_training_model_lineage_DatasetVersionId",
                table: "training_model_lineage",
                column: "DatasetVersionId");

            migrationBuilder.CreateIndex(
                name: "IX_training_model_versions_JobId",
                table: "training_model_versions",
                column: "JobId");

            migrationBuilder.CreateIndex(
                name: "IX_training_model_versions_ModelId_Number",
                table: "training_model_versions",
                columns: new[] { "ModelId", "Number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_training_models_ProjectId_Name",
                table: "training_models",
                columns: new[] { "ProjectId", "Name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "training_artifacts");

            migrationBuilder.DropTable(
                name: "training_job_inputs");

            migrationBuilder.DropTable(
                name: "training_job_params");

            migrationBuilder.DropTable(
                name: "training_logs");

            migrationBuilder.DropTable(
                name: "training_metrics");

            migrationBuilder.DropTable(
                name: "training_model_aliases");

            migrationBuilder.DropTable(
                name: "training_model_lineage");

            migrationBuilder.DropTable(
                name: "training_model_versions");

            migrationBuilder.DropTable(
                name: "training_jobs");

            migrationBuilder.DropTable(
                name: "training_models");
        }
    }
}
