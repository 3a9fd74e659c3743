using System.CommandLine;
using Cube.Core.Data;
using Cube.Core.Hosting;
using Cube.Core.Identity;
using Cube.Hosting;
using Microsoft.Extensions.Options;

namespace Cube.Cli;

/// <summary>
/// The verbs of the <c>cube</c> executable. Tokens a verb does not know are handed to the host as configuration,
/// so <c>cube serve --Cube:DataDirectory /srv/cube</c> and environment variables like <c>Cube__DataDirectory</c> both work.
/// </summary>
internal static class CubeCommands
{
    /// <summary>All verbs. <paramref name="console"/> redirects the client verbs' output and HTTP (tests); the real console otherwise.</summary>
    public static RootCommand Build(CliConsole? console = null)
    {
        var root = new RootCommand("Cube: datasets, feature pipelines, labeling, training, serving and knowledge bases in one platform.");
        root.Subcommands.Add(Serve());
        root.Subcommands.Add(Worker());
        root.Subcommands.Add(Migrate());
        root.Subcommands.Add(Users());
        root.Subcommands.Add(Tokens());
        root.Subcommands.Add(DatasetCommands.Build(console ?? CliConsole.System));
        root.Subcommands.Add(LabelCommands.Build(console ?? CliConsole.System));
        root.Subcommands.Add(KnowledgeCommands.Build(console ?? CliConsole.System));
        root.Subcommands.Add(JobCommands.Build(console ?? CliConsole.System));
        return root;
    }

    private static Command Serve()
    {
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on (default {CubeApp.DefaultUrl})." };
        var command = new Command("serve", "Starts the server with every module on embedded defaults unless configured otherwise.") { urls };
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) =>
        {
            var hostArgs = parse.UnmatchedTokens.ToList();
            if (parse.GetValue(urls) is { } u) hostArgs.AddRange(["--urls", u]);
            return await HostRunner.RunAsync(() => CubeApp.BuildServer([.. hostArgs]), cancellationToken);
        });
        return command;
    }

    private static Command Worker()
    {
        var command = new Command("worker", "Executes background runs from the shared PostgreSQL queue; serves no HTTP.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) => await HostRunner.RunAsync(() =>
        {
            var host = CubeApp.BuildBackground([.. parse.UnmatchedTokens], HostRole.Worker);
            var runs = host.Services.GetRequiredService<IOptions<Core.Runs.RunsOptions>>().Value;
            if (!runs.UsesPostgresQueue)
                throw new OptionsValidationException("Cube:Runs:Queue", typeof(Core.Runs.RunsOptions),
                    ["Cube:Runs:Queue must be 'PostgreSQL' for 'cube worker': the in-memory queue lives inside 'cube serve'."]);
            return host;
        }, cancellationToken));
        return command;
    }

    private static Command Migrate()
    {
        var command = new Command("migrate", "Applies pending metadata database migrations of every module.");
        command.TreatUnmatchedTokensAsErrors = false;
        command.SetAction(async (parse, cancellationToken) => await HostRunner.RunToolAsync([.. parse.UnmatchedTokens], async services =>
        {
            await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
            Console.WriteLine("Database is up to date.");
            return 0;
        }));
        return command;
    }

    private static Command Users()
    {
        var name = new Argument<string>("userName") { Description = "Login name." };
        var admin = new Option<bool>("--admin") { Description = "Grant global administrator rights." };
        var password = new Option<string?>("--password") { Description = "Password; a random one is generated and printed when omitted." };
        var add = new Command("add", "Creates a user.") { name, admin, password };
        add.TreatUnmatchedTokensAsErrors = false;
        add.SetAction(async (parse, cancellationToken) => await HostRunner.RunToolAsync([.. parse.UnmatchedTokens], async services =>
        {
            await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
            var clear = parse.GetValue(password) ?? Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(15));
            var user = await services.GetRequiredService<IdentityService>()
                .CreateUserAsync(parse.GetValue(name)!, clear, parse.GetValue(admin), null, cancellationToken);
            Console.WriteLine($"Created user '{user.UserName}'{(user.IsAdmin ? " (admin)" : "")}.");
            if (parse.GetValue(password) is null) Console.WriteLine($"Password: {clear}");
            return 0;
        }));
        return new Command("user", "Manages users.") { add };
    }

    private static Command Tokens()
    {
        var user = new Option<string>("--user") { Description = "The user the token acts as.", Required = true };
        var name = new Option<string>("--name") { Description = "What the token is for.", DefaultValueFactory = _ => "cli" };
        var days = new Option<int?>("--expires-days") { Description = "Lifetime in days; no expiry when omitted." };
        var create = new Command("create", "Creates an API token and prints it once.") { user, name, days };
        create.TreatUnmatchedTokensAsErrors = false;
        create.SetAction(async (parse, cancellationToken) => await HostRunner.RunToolAsync([.. parse.UnmatchedTokens], async services =>
        {
            await services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
            var identity = services.GetRequiredService<IdentityService>();
            var found = await identity.FindUserAsync(parse.GetValue(user)!, cancellationToken);
            if (found is null)
            {
                Console.Error.WriteLine($"No user '{parse.GetValue(user)}'.");
                return 1;
            }
            var lifetime = parse.GetValue(days) is { } d ? TimeSpan.FromDays(d) : (TimeSpan?)null;
            var (_, secret) = await identity.CreateTokenAsync(found.Id, parse.GetValue(name)!, lifetime, cancellationToken);
            Console.WriteLine(secret);
            return 0;
        }));
        return new Command("token", "Manages API tokens.") { create };
    }
}
