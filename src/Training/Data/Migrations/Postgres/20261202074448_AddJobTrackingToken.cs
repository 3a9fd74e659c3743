using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Training.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class AddJobTrackingToken : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "TrackingTokenHash",
                table: "training_jobs",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "TrackingTokenHash",
                table: "training_jobs");
        }
    }
}
