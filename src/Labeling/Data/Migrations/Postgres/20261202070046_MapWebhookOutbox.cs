using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Labeling.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class MapWebhookOutbox : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {

        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
