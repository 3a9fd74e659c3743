using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.DataHub.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "datahub_blobs",
                columns: table => new
                {
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_blobs", x => x.Sha256);
                });

            migrationBuilder.CreateTable(
                name: "datahub_datasets",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false),
                    Description = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: true),
                    Kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    OwnerId = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    IsArchived = table.Column<bool>(type: "boolean", nullable: false),
                    DeletedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: true),
                    LatestVersion = table.Column<int>(type: "integer", nullable: false),
                    RowVersion = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_datasets", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "datahub_lineage",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    UpstreamVersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    DownstreamVersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Kind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_lineage", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "datahub_upload_sessions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    ExpiresAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    State = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false),
                    RunId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_upload_sessions", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "datahub_dataset_tags",
                columns: table => new
                {
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Tag = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_dataset_tags", x => new { x.DatasetId, x.Tag });
                    table.ForeignKey(
                        name: "FK_datahub_dataset_tags_datahub_datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "datahub_datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "datahub_versions",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Number = table.Column<int>(type: "integer", nullable: false),
                    ParentId = table.Column<Guid>(type: "uuid", nullable: true),
                    Message = table.Column<string>(type: "character varying(4000)", maxLength: 4000, nullable: false),
                    AuthorId = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    FileCount = table.Column<int>(type: "integer", nullable: false),
                    TotalBytes = table.Column<long>(type: "bigint", nullable: false),
                    SourceKind = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false),
                    SourceJson = table.Column<string>(type: "text", nullable: true),
                    RunId = table.Column<Guid>(type: "uuid", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_versions", x => x.Id);
                    table.ForeignKey(
                        name: "FK_datahub_versions_datahub_datasets_DatasetId",
                        column: x => x.DatasetId,
                        principalTable: "datahub_datasets",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "datahub_staged_files",
                columns: table => new
                {
                    SessionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    DeclaredSize = table.Column<long>(type: "bigint", nullable: false),
                    ReceivedBytes = table.Column<long>(type: "bigint", nullable: false),
                    ChunkCount = table.Column<int>(type: "integer", nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true),
                    Delete = table.Column<bool>(type: "boolean", nullable: false),
                    Extract = table.Column<bool>(type: "boolean", nullable: false),
                    UpdatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_staged_files", x => new { x.SessionId, x.Path });
                    table.ForeignKey(
                        name: "FK_datahub_staged_files_datahub_upload_sessions_SessionId",
                        column: x => x.SessionId,
                        principalTable: "datahub_upload_sessions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "datahub_version_files",
                columns: table => new
                {
                    VersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    Sha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    Size = table.Column<long>(type: "bigint", nullable: false),
                    ContentType = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_version_files", x => new { x.VersionId, x.Path });
                    table.ForeignKey(
                        name: "FK_datahub_version_files_datahub_versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "datahub_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "datahub_version_tables",
                columns: table => new
                {
                    VersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false),
                    ParquetSha256 = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    ParquetSize = table.Column<long>(type: "bigint", nullable: false),
                    RowCount = table.Column<long>(type: "bigint", nullable: false),
                    SchemaJson = table.Column<string>(type: "text", nullable: false),
                    StatisticsJson = table.Column<string>(type: "text", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_version_tables", x => new { x.VersionId, x.Path });
                    table.ForeignKey(
                        name: "FK_datahub_version_tables_datahub_versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "datahub_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "datahub_version_tags",
                columns: table => new
                {
                    DatasetId = table.Column<Guid>(type: "uuid", nullable: false),
                    Name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false),
                    VersionId = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedBy = table.Column<Guid>(type: "uuid", nullable: false),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_datahub_version_tags", x => new { x.DatasetId, x.Name });
                    table.ForeignKey(
                        name: "FK_datahub_version_tags_datahub_versions_VersionId",
                        column: x => x.VersionId,
                        principalTable: "datahub_versions",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_datahub_dataset_tags_Tag",
                table: "datahub_dataset_tags",
                column: "Tag");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_datasets_ProjectId_Name",
                table: "datahub_datasets",
                columns: new[] { "ProjectId", "Name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_datahub_lineage_DownstreamVersionId",
                table: "datahub_lineage",
                column: "DownstreamVersionId");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_lineage_UpstreamVersionId",
                table: "datahub_lineage",
                column: "UpstreamVersionId");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_upload_sessions_DatasetId",
                table: "datahub_upload_sessions",
                column: "DatasetId");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_version_files_Sha256",
                table: "datahub_version_files",
                column: "Sha256");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_version_tables_ParquetSha256",
                table: "datahub_version_tables",
                column: "ParquetSha256");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_version_tags_VersionId",
                table: "datahub_version_tags",
                column: "VersionId");

            migrationBuilder.CreateIndex(
                name: "IX_datahub_versions_DatasetId_Number",
                table: "datahub_versions",
                columns: new[] { "DatasetId", "Number" },
                unique: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "datahub_blobs");

            migrationBuilder.DropTable(
                name: "datahub_dataset_tags");

            migrationBuilder.DropTable(
                name: "datahub_lineage");

            migrationBuilder.DropTable(
                name: "datahub_staged_files");

            migrationBuilder.DropTable(
                name: "datahub_version_files");

            migrationBuilder.DropTable(
                name: "datahub_version_tables");

            migrationBuilder.DropTable(
                name: "datahub_version_tags");

            migrationBuilder.DropTable(
                name: "datahub_upload_sessions");

            migrationBuilder.DropTable(
                name: "datahub_versions");

            migrationBuilder.DropTable(
                name: "datahub_datasets");
        }
    }
}
