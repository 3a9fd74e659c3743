using System.Text;

namespace Cube.Knowledge.Tests.Embeddings;

/// <summary>
/// Writes a small but real ONNX encoder for tests: token ids go through an embedding table (<c>Gather</c>), giving
/// <c>last_hidden_state [batch, tokens, dim]</c>, so a sentence embedding is the mean of its tokens' rows. The
/// protobuf is written field by field from onnx.proto's numbering; no ONNX tooling is needed.
/// </summary>
public static class TinyOnnxModel
{
    /// <summary>A WordPiece vocabulary: BERT's special tokens first, then the words.</summary>
    public static readonly string[] Vocabulary =
        ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "cat", "dog", "sat", "on", "mat", "backup", "##s", "run", "night", "every", "export", "bucket", "error", "lock"];

    public const int Dimensions = 6;

    /// <summary>Row <paramref name="token"/> of the embedding table: fixed, distinct values.</summary>
    public static float[] Row(int token) =>
        Enumerable.Range(0, Dimensions).Select(d => MathF.Sin(token * 1.7f + d * 0.9f) + (d == token % Dimensions ? 1f : 0f)).ToArray();

    /// <summary>Writes <c>model.onnx</c> and <c>vocab.txt</c> into <paramref name="directory"/>; returns the model's path.</summary>
    public static string Write(string directory, string inputName = "input_ids", bool withMask = true)
    {
        File.WriteAllLines(Path.Combine(directory, "vocab.txt"), Vocabulary);
        var table = new byte[Vocabulary.Length * Dimensions * 4];
        for (var t = 0; t < Vocabulary.Length; t++)
            Buffer.BlockCopy(Row(t), 0, table, t * Dimensions * 4, Dimensions * 4);

        var initializer = new Proto()
            .Int(1, Vocabulary.Length).Int(1, Dimensions) // dims
            .Int(2, 1)                                   // data_type FLOAT
            .Text(8, "embeddings")                       // name
            .Bytes(9, table);                            // raw_data
        var gather = new Proto().Text(1, "embeddings").Text(1, inputName).Text(2, "last_hidden_state").Text(3, "lookup").Text(4, "Gather");
        var graph = new Proto()
            .Message(1, gather)
            .Text(2, "tiny-encoder")
            .Message(5, initializer)
            .Message(11, Value(inputName, 7, Dim("batch"), Dim("tokens")));
        if (withMask) graph.Message(11, Value("attention_mask", 7, Dim("batch"), Dim("tokens")));
        graph.Message(12, Value("last_hidden_state", 1, Dim("batch"), Dim("tokens"), new Proto().Int(1, Dimensions)));
        var model = new Proto()
            .Int(1, 8)                                   // ir_version
            .Text(2, "cube-tests")                       // producer_name
            .Message(7, graph)
            .Message(8, new Proto().Text(1, "").Int(2, 13)); // opset_import: default domain, opset 13
        var path = Path.Combine(directory, "model.onnx");
        File.WriteAllBytes(path, model.ToArray());
        return path;
    }

    private static Proto Dim(string symbol) => new Proto().Text(2, symbol);

    /// <summary>ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type, shape: {dim...}}}}.</summary>
    private static Proto Value(string name, int elementType, params Proto[] dims)
    {
        var shape = new Proto();
        foreach (var dim in dims) shape.Message(1, dim);
        var tensor = new Proto().Int(1, elementType).Message(2, shape);
        return new Proto().Text(1, name).Message(2, new Proto().Message(1, tensor));
    }

    /// <summary>The protobuf wire format, as far as these messages need it: varints and length-delimited fields.</summary>
    private sealed class Proto
    {
        private readonly MemoryStream _bytes = new();

        public Proto Int(int field, long value)
        {
            Varint((ulong)(field << 3));
            Varint((ulong)value);
            return this;
        }

        public Proto Text(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

        public Proto Bytes(int field, byte[] value)
        {
            Varint((ulong)((field << 3) | 2));
            Varint((ulong)value.Length);
            _bytes.Write(value);
            return this;
        }

        public byte[] ToArray() => _bytes.ToArray();

        private void Varint(ulong value)
        {
            while (value >= 0x80)
            {
                _bytes.WriteByte((byte)(value | 0x80));
                value >>= 7;
            }
            _bytes.WriteByte((byte)value);
        }
    }
}
