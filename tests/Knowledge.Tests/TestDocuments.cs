using UglyToad.PdfPig.Content;
using UglyToad.PdfPig.Core;
using UglyToad.PdfPig.Fonts.Standard14Fonts;
using UglyToad.PdfPig.Writer;

namespace Cube.Knowledge.Tests;

/// <summary>Real documents built by the tests: a PDF with text on several pages (PdfPig's writer).</summary>
public static class TestDocuments
{
    public static byte[] Pdf(string title, params string[][] pages)
    {
        var builder = new PdfDocumentBuilder();
        builder.DocumentInformation.Title = title;
        var font = builder.AddStandard14Font(Standard14Font.Helvetica);
        foreach (var lines in pages)
        {
            var page = builder.AddPage(PageSize.A4);
            var y = 780.0;
            foreach (var line in lines)
            {
                if (line.Length > 0) page.AddText(line, 11, new PdfPoint(40, y), font);
                // An empty line leaves a gap, which the layout analysis reads as a paragraph break.
                y -= line.Length > 0 ? 14 : 28;
            }
        }
        return builder.Build();
    }
}
