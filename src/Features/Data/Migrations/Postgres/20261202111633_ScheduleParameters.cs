using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Features.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ScheduleParameters : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ParametersJson",
                table: "features_schedules",
                type: "text",
                nullable: false,
                defaultValue: "");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ParametersJson",
                table: "features_schedules");
        }
    }
}
