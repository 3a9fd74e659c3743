using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Cube.Labeling.Data;

/// <summary>
/// A compiled query for each EF model it runs against: a compiled query refuses a model other than its first, and
/// SQLite and PostgreSQL (and each test server) have models of their own.
/// </summary>
public sealed class PerModel<T>(Func<T> compile) where T : class
{
    private readonly ConditionalWeakTable<IModel, T> _compiled = new();

    public T For(DbContext db) => _compiled.GetValue(db.Model, _ => compile());
}
