using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Training.Data.Migrations.Sqlite
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
                type: "TEXT",
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
