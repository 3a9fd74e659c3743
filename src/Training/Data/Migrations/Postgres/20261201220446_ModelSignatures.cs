using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Training.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class ModelSignatures : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "SignatureJson",
                table: "training_model_versions",
                type: "text",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "SignatureJson",
                table: "training_model_versions");
        }
    }
}
