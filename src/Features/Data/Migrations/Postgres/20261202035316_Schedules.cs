using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Features.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Schedules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "features_schedules",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    PipelineId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Cron = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    TimeZone = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    OutputDataset = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: false),
                    PipelineVersion = table.Column<int>(type: "integer", nullable: true),
                    InputsJson = table.Column<string>(type: "text", nullable: false),
                    Enabled = table.Column<bool>(type: "boolean", nullable: false),
                    MaxConcurrentRuns = table.Column<int>(type: "integer", nullable: false),
                    MaxRetries = table.Column<int>(type: "integer", nullable: false),
                    RetryDelaySeconds = table.Column<int>(type: "integer", nullable: false),
                    SkipWhenUnchanged = table.Column<bool>(type: "boolean", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: false),
                    LastFireAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    NextFireAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LastOutcome = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    RowVersion = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_features_schedules", x => x.Id);
                    table.ForeignKey(
                        name: "FK_features_schedules_features_pipelines_PipelineId",
                        column: x => x.PipelineId,
                        principalTable: "features_pipelines",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "features_schedule_backfills",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ScheduleId = table.Column<Guid>(type: "uuid", nullable: false),
                    From = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    To = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Total = table.Column<int>(type: "integer", nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_features_schedule_backfills", x => x.Id);
                    table.ForeignKey(
                        name: "FK_features_schedule_backfills_features_schedules_ScheduleId",
                        column: x => x.ScheduleId,
                        principalTable: "features_schedules",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "features_schedule_fires",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ScheduleId = table.Column<Guid>(type: "uuid", nullable: false),
                    BackfillId = table.Column<Guid>(type: "uuid", nullable: true),
                    Trigger = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    LogicalDate = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FiredAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    Outcome = table.Column<string>(type: "character varying(24)", maxLength: 24, nullable: false),
                    Detail = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    Attempt = table.Column<int>(type: "integer", nullable: false),
                    RetryOfId = table.Column<Guid>(type: "uuid", nullable: true),
                    RetryDecided = table.Column<bool>(type: "boolean", nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: true),
                    RunState = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true),
                    RunFinishedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    PipelineVersionId = table.Column<Guid>(type: "uuid", nullable: true),
                    PipelineVersion = table.Column<int>(type: "integer", nullable: true),
                    InputsJson = table.Column<string>(type: "text", nullable: true),
                    InputsKey = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    DedupeKey = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_features_schedule_fires", x => x.Id);
                    table.ForeignKey(
                        name: "FK_features_schedule_fires_features_schedules_ScheduleId",
                        column: x => x.ScheduleId,
                        principalTable: "features_schedules",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_features_schedule_backfills_ScheduleId_CreatedAt",
                table: "features_schedule_backfills",
                columns: new[] { "ScheduleId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_features_schedule_fires_BackfillId",
                table: "features_schedule_fires",
                column: "BackfillId");

            migrationBuilder.CreateIndex(
                name: "IX_features_schedule_fires_ScheduleId_DedupeKey",
                table: "features_schedule_fires",
                columns: new[] { "ScheduleId", "DedupeKey" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_features_schedule_fires_ScheduleId_FiredAt",
                table: "features_schedule_fires",
                columns: new[] { "ScheduleId", "FiredAt" });

            migrationBuilder.CreateIndex(
                name: "IX_features_schedule_fires_ScheduleId_Outcome",
                table: "features_schedule_fires",
                columns: new[] { "ScheduleId", "Outcome" });

            migrationBuilder.CreateIndex(
                name: "IX_features_schedules_PipelineId",
                table: "features_schedules",
                column: "PipelineId");

            migrationBuilder.CreateIndex(
                name: "IX_features_schedules_ProjectId_Name",
                table: "features_schedules",
                columns: new[] { "ProjectId", "Name" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "features_schedule_backfills");

            migrationBuilder.DropTable(
                name: "features_schedule_fires");

            migrationBuilder.DropTable(
                name: "features_schedules");
        }
    }
}
