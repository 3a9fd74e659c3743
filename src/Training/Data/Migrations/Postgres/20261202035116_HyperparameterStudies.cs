using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Training.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class HyperparameterStudies : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "StudyId",
                table: "training_jobs",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "training_studies",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Experiment = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Strategy = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Metric = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Goal = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    SpecJson = table.Column<string>(type: "text", nullable: false),
                    Parallelism = table.Column<int>(type: "integer", nullable: false),
                    Seed = table.Column<int>(type: "integer", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    Rung = table.Column<int>(type: "integer", nullable: false),
                    Rungs = table.Column<int>(type: "integer", nullable: false),
                    TotalTrials = table.Column<int>(type: "integer", nullable: false),
                    BestTrialId = table.Column<Guid>(type: "uuid", nullable: true),
                    BestValue = table.Column<double>(type: "double precision", nullable: true),
                    Message = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    SubmittedBy = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LeaseOwner = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true),
                    LeaseUntil = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_studies", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "training_study_trials",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    StudyId = table.Column<Guid>(type: "uuid", nullable: false),
                    Number = table.Column<int>(type: "integer", nullable: false),
                    Configuration = table.Column<int>(type: "integer", nullable: false),
                    Rung = table.Column<int>(type: "integer", nullable: false),
                    ParamsJson = table.Column<string>(type: "character varying(16000)", maxLength: 16000, nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: true),
                    PromotedFrom = table.Column<Guid>(type: "uuid", nullable: true),
                    MetricValue = table.Column<double>(type: "double precision", nullable: true),
                    StopReason = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_training_study_trials", x => x.Id);
                    table.ForeignKey(
                        name: "FK_training_study_trials_training_studies_StudyId",
                        column: x => x.StudyId,
                        principalTable: "training_studies",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_training_jobs_StudyId",
                table: "training_jobs",
                column: "StudyId");

            migrationBuilder.CreateIndex(
                name: "IX_training_studies_ProjectId_Id",
                table: "training_studies",
                columns: new[] { "ProjectId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_training_studies_State",
                table: "training_studies",
                column: "State");

            migrationBuilder.CreateIndex(
                name: "IX_training_study_trials_JobId",
                table: "training_study_trials",
                column: "JobId");

            migrationBuilder.CreateIndex(
                name: "IX_training_study_trials_StudyId_Number",
                table: "training_study_trials",
                columns: new[] { "StudyId", "Number" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "training_study_trials");

            migrationBuilder.DropTable(
                name: "training_studies");

            migrationBuilder.DropIndex(
                name: "IX_training_jobs_StudyId",
                table: "training_jobs");

            migrationBuilder.DropColumn(
                name: "StudyId",
                table: "training_jobs");
        }
    }
}
