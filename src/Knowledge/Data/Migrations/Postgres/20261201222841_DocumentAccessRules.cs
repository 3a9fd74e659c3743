using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Knowledge.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DocumentAccessRules : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "AccessRulesJson",
                table: "knowledge_bases",
                type: "character varying(8000)",
                maxLength: 8000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "AccessRulesJson",
                table: "knowledge_bases");
        }
    }
}
