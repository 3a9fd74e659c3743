using System.Globalization;
using System.Text;

namespace Cube.Features.Expressions;

/// <summary>An expression that does not parse or does not type-check, with the character position it concerns.</summary>
public sealed class ExpressionException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}

internal enum TokenKind { Number, String, Identifier, Symbol, End }

internal readonly record struct Token(TokenKind Kind, string Text, int Position, bool Quoted = false);

/// <summary>Unbound syntax tree of an expression.</summary>
internal abstract record Node(int Position);
internal sealed record LiteralNode(object? Value, int Position) : Node(Position);
internal sealed record ColumnNode(string Name, int Position) : Node(Position);
internal sealed record UnaryNode(string Op, Node Operand, int Position) : Node(Position);
internal sealed record BinaryNode(string Op, Node Left, Node Right, int Position) : Node(Position);
internal sealed record IsNullNode(Node Operand, bool Negated, int Position) : Node(Position);
internal sealed record InNode(Node Operand, IReadOnlyList<Node> Items, bool Negated, int Position) : Node(Position);
internal sealed record CallNode(string Name, IReadOnlyList<Node> Arguments, int Position) : Node(Position);
internal sealed record CaseNode(IReadOnlyList<(Node When, Node Then)> Branches, Node? Else, int Position) : Node(Position);

/// <summary>
/// Recursive-descent parser for the expression language: SQL-like literals ('text', 1, 2.5, true, null), column names
/// (bare, "quoted" or `quoted`), arithmetic, comparison, and/or/not, IS [NOT] NULL, [NOT] IN (...), CASE WHEN and calls.
/// </summary>
internal sealed class Parser
{
    private static readonly string[] Symbols = ["<=", ">=", "<>", "!=", "==", "+", "-", "*", "/", "%", "=", "<", ">", "(", ")", ","];
    private readonly List<Token> _tokens;
    private int _at;

    private Parser(List<Token> tokens) => _tokens = tokens;

    public static Node Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new ExpressionException("The expression is empty.", 0);
        var parser = new Parser(Lex(text));
        var node = parser.Or();
        if (parser.Peek.Kind != TokenKind.End) throw new ExpressionException($"Unexpected '{parser.Peek.Text}'.", parser.Peek.Position);
        return node;
    }

    private Token Peek => _tokens[_at];

    private bool IsKeyword(string word) => Peek.Kind == TokenKind.Identifier && string.Equals(Peek.Text, word, StringComparison.OrdinalIgnoreCase) && !Peek.Quoted;

    private bool Accept(string symbolOrKeyword)
    {
        if ((Peek.Kind == TokenKind.Symbol && Peek.Text == symbolOrKeyword) || IsKeyword(symbolOrKeyword))
        {
            _at++;
            return true;
        }
        return false;
    }

    private void Expect(string symbolOrKeyword)
    {
        if (!Accept(symbolOrKeyword))
            throw new ExpressionException(Peek.Kind == TokenKind.End ? $"Expected '{symbolOrKeyword}' but the expression ended." : $"Expected '{symbolOrKeyword}' but found '{Peek.Text}'.", Peek.Position);
    }

    private Node Or()
    {
        var left = And();
        while (Peek is var t && Accept("or")) left = new BinaryNode("or", left, And(), t.Position);
        return left;
    }

    private Node And()
    {
        var left = Not();
        while (Peek is var t && Accept("and")) left = new BinaryNode("and", left, Not(), t.Position);
        return left;
    }

    private Node Not()
    {
        var t = Peek;
        return Accept("not") ? new UnaryNode("not", Not(), t.Position) : Comparison();
    }

    private Node Comparison()
    {
        var left = Additive();
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.Symbol && t.Text is "=" or "==" or "!=" or "<>" or "<" or "<=" or ">" or ">=")
            {
                _at++;
                var op = t.Text switch { "==" => "=", "<>" => "!=", _ => t.Text };
                left = new BinaryNode(op, left, Additive(), t.Position);
            }
            else if (Accept("is"))
            {
                var negated = Accept("not");
                Expect("null");
                left = new IsNullNode(left, negated, t.Position);
            }
            else if (IsKeyword("not") && _at + 1 < _tokens.Count && _tokens[_at + 1].Kind == TokenKind.Identifier && string.Equals(_tokens[_at + 1].Text, "in", StringComparison.OrdinalIgnoreCase))
            {
                _at += 2;
                left = new InNode(left, List(), true, t.Position);
            }
            else if (Accept("in"))
            {
                left = new InNode(left, List(), false, t.Position);
            }
            else
            {
                return left;
            }
        }
    }

    private List<Node> List()
    {
        Expect("(");
        var items = new List<Node> { Or() };
        while (Accept(",")) items.Add(Or());
        Expect(")");
        return items;
    }

    private Node Additive()
    {
        var left = Multiplicative();
        while (Peek is { Kind: TokenKind.Symbol, Text: "+" or "-" } t)
        {
            _at++;
            left = new BinaryNode(t.Text, left, Multiplicative(), t.Position);
        }
        return left;
    }

    private Node Multiplicative()
    {
        var left = Unary();
        while (Peek is { Kind: TokenKind.Symbol, Text: "*" or "/" or "%" } t)
        {
            _at++;
            left = new BinaryNode(t.Text, left, Unary(), t.Position);
        }
        return left;
    }

    private Node Unary()
    {
        var t = Peek;
        if (Accept("-")) return new UnaryNode("-", Unary(), t.Position);
        if (Accept("+")) return Unary();
        return Primary();
    }

    private Node Primary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Number:
                _at++;
                if (long.TryParse(t.Text, NumberStyles.None, CultureInfo.InvariantCulture, out var whole)) return new LiteralNode(whole, t.Position);
                return new LiteralNode(double.Parse(t.Text, NumberStyles.Float, CultureInfo.InvariantCulture), t.Position);
            case TokenKind.String:
                _at++;
                return new LiteralNode(t.Text, t.Position);
            case TokenKind.Symbol when t.Text == "(":
            {
                _at++;
                var inner = Or();
                Expect(")");
                return inner;
            }
            case TokenKind.Identifier:
            {
                var quoted = t.Quoted;
                _at++;
                if (!quoted)
                {
                    switch (t.Text.ToLowerInvariant())
                    {
                        case "null": return new LiteralNode(null, t.Position);
                        case "true": return new LiteralNode(true, t.Position);
                        case "false": return new LiteralNode(false, t.Position);
                        case "case": return Case(t.Position);
                    }
                    if (Peek is { Kind: TokenKind.Symbol, Text: "(" })
                    {
                        _at++;
                        var arguments = new List<Node>();
                        if (!Accept(")"))
                        {
                            arguments.Add(Or());
                            while (Accept(",")) arguments.Add(Or());
                            Expect(")");
                        }
                        return new CallNode(t.Text.ToLowerInvariant(), arguments, t.Position);
                    }
                }
                return new ColumnNode(t.Text, t.Position);
            }
            case TokenKind.End:
                throw new ExpressionException("The expression ended where a value was expected.", t.Position);
            default:
                throw new ExpressionException($"Unexpected '{t.Text}'.", t.Position);
        }
    }

    private Node Case(int position)
    {
        var branches = new List<(Node, Node)>();
        while (Accept("when"))
        {
            var when = Or();
            Expect("then");
            branches.Add((when, Or()));
        }
        if (branches.Count == 0) throw new ExpressionException("CASE needs at least one WHEN branch.", position);
        Node? otherwise = Accept("else") ? Or() : null;
        Expect("end");
        return new CaseNode(branches, otherwise, position);
    }

    private static List<Token> Lex(string text)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < text.Length)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c)) { i++; continue; }
            var start = i;
            if (char.IsDigit(c) || (c == '.' && i + 1 < text.Length && char.IsDigit(text[i + 1])))
            {
                while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.')) i++;
                if (i < text.Length && text[i] is 'e' or 'E')
                {
                    i++;
                    if (i < text.Length && text[i] is '+' or '-') i++;
                    while (i < text.Length && char.IsDigit(text[i])) i++;
                }
                var number = text[start..i];
                if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
                    throw new ExpressionException($"'{number}' is not a number.", start);
                tokens.Add(new Token(TokenKind.Number, number, start));
            }
            else if (c is '\'' or '"' or '`')
            {
                var value = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new ExpressionException(c == '\'' ? "The text literal is not closed." : "The quoted column name is not closed.", start);
                    if (text[i] == c)
                    {
                        if (i + 1 < text.Length && text[i + 1] == c) { value.Append(c); i += 2; continue; }
                        i++;
                        break;
                    }
                    value.Append(text[i++]);
                }
                if (c == '\'') tokens.Add(new Token(TokenKind.String, value.ToString(), start));
                else tokens.Add(new Token(TokenKind.Identifier, value.ToString(), start, Quoted: true));
            }
            else if (char.IsLetter(c) || c == '_')
            {
                while (i < text.Length && (char.IsLetterOrDigit(text[i]) || text[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Identifier, text[start..i], start));
            }
            else
            {
                var symbol = Symbols.FirstOrDefault(s => string.CompareOrdinal(text, i, s, 0, s.Length) == 0)
                    ?? throw new ExpressionException($"Unexpected character '{c}'.", i);
                i += symbol.Length;
                tokens.Add(new Token(TokenKind.Symbol, symbol, start));
            }
        }
        tokens.Add(new Token(TokenKind.End, "", text.Length));
        return tokens;
    }
}
