using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Cube.Core.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class WebhookDeliveryLogIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_core_webhook_deliveries_SubscriptionId",
                table: "core_webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_core_webhook_deliveries_SubscriptionId_Id",
                table: "core_webhook_deliveries",
                columns: new[] { "SubscriptionId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_core_webhook_deliveries_SubscriptionId_Id",
                table: "core_webhook_deliveries");

            migrationBuilder.CreateIndex(
                name: "IX_core_webhook_deliveries_SubscriptionId",
                table: "core_webhook_deliveries",
                column: "SubscriptionId");
        }
    }
}
