import Foundation
import OnbrandTestSupport
import OnbrandXML
import Testing

@Suite struct XMLDocumentTests {
    static func fixture(_ name: String) throws -> String {
        try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures")).path
    }

    @Test func namespacesAreMatchedByURINotPrefix() throws {
        let root = try XMLDocument.parse(contentsOf: Self.fixture("positions.xml"))
        let price = try #require(root.firstElement("price", namespace: XMLNamespace.googleBase))
        #expect(price.qualifiedName == "google:price")
        #expect(price.trimmedText == "159.00 USD")
        #expect(root.firstElement("price") == nil, "an unprefixed lookup must not find a namespaced element")
    }

    @Test func everyElementKnowsItsLineAndColumn() throws {
        let root = try XMLDocument.parse(contentsOf: Self.fixture("positions.xml"))
        #expect((root.line, root.column) == (3, 1))
        let a = try #require(root.firstElement("a"))
        #expect((a.line, a.column) == (4, 3))
        let b = try #require(a.firstElement("b"))
        #expect((b.line, b.column) == (4, 6), "comments, CDATA and '>' in attributes must not shift columns")
        let c = try #require(a.firstElement("c"))
        #expect((c.line, c.column) == (4, 35))
        #expect(c.attribute("x") == "1 > 0")
        #expect(a.text.contains("<not-a-tag>"), "CDATA is text")
        let price = try #require(root.firstElement("price", namespace: XMLNamespace.googleBase))
        #expect((price.line, price.column) == (6, 5))
    }

    @Test(arguments: [
        ("truncated-feed.xml", 6, "truncated"),
        ("undeclared-prefix.xml", 5, "xmlns:g"),
        ("mismatched-tag.xml", 5, "end tag"),
        ("bare-ampersand.xml", 3, "&amp;"),
        ("invalid-utf8.xml", 3, "UTF-8"),
    ])
    func malformedInputIsLocatedAndExplained(fixture: String, line: Int, hintMentions: String) throws {
        let path = try Self.fixture(fixture)
        let error = try #require(throws: XMLError.self) { try XMLDocument.parse(contentsOf: path) }
        #expect(error.file == path)
        #expect(error.line == line, "\(error)")
        #expect(error.column > 0, "\(error)")
        #expect(error.hint?.contains(hintMentions) == true, "\(error)")
        #expect(error.description.hasPrefix("\(path):\(line):\(error.column): error: "))
    }

    @Test func externalEntityFailsWithoutReadingTheFile() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let secret = try TestFiles.write("TOP-SECRET-\(UUID().uuidString)", to: "secret.txt", in: directory)
            let attack = """
                <?xml version="1.0"?>
                <!DOCTYPE brand [ <!ENTITY xxe SYSTEM "file://\(secret)"> ]>
                <brand><name>&xxe;</name></brand>
                """
            let path = try TestFiles.write(attack, to: "xxe.xml", in: directory)
            let treeError = try #require(throws: XMLError.self) { try XMLDocument.parse(contentsOf: path) }
            #expect(treeError.message.contains("DOCTYPE"))
            #expect((treeError.line, treeError.column) == (2, 1))
            #expect(!treeError.description.contains("TOP-SECRET"))
            let stream = try XMLStreamReader(contentsOf: path)
            let streamError = try #require(throws: XMLError.self) { try stream.nextElement { _, _ in true } }
            #expect(streamError.message.contains("DOCTYPE"))
            #expect(!streamError.description.contains("TOP-SECRET"))
        }
    }

    @Test func externalParameterEntityFails() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let secret = try TestFiles.write("TOP-SECRET", to: "secret.dtd", in: directory)
            let attack = "<?xml version=\"1.0\"?>\n<!DOCTYPE x [ <!ENTITY % p SYSTEM \"file://\(secret)\"> %p; ]>\n<x/>\n"
            let path = try TestFiles.write(attack, to: "pe.xml", in: directory)
            let error = try #require(throws: XMLError.self) { try XMLDocument.parse(contentsOf: path) }
            #expect(!error.description.contains("TOP-SECRET"))
        }
    }

    @Test func billionLaughsFailsAtTheDoctype() throws {
        let path = try Self.fixture("billion-laughs.xml")
        let error = try #require(throws: XMLError.self) { try XMLDocument.parse(contentsOf: path) }
        #expect(error.message.contains("DOCTYPE"))
        #expect((error.line, error.column) == (2, 1))
        let stream = try XMLStreamReader(contentsOf: path)
        #expect(throws: XMLError.self) { try stream.nextElement { _, _ in true } }
    }

    @Test func missingFileIsAClearError() {
        let error = #expect(throws: XMLError.self) { try XMLDocument.parse(contentsOf: "/nonexistent/brand.xml") }
        #expect(error?.message.contains("cannot read") == true)
    }
}

@Suite struct WhitespaceTrimmingTests {
    /// The reference: trim every Unicode White_Space scalar, scalar by scalar.
    static func reference(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        while let first = scalars.first, first.properties.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.properties.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }

    /// The fast path decides from the first and last bytes alone: every scalar of the Basic
    /// Multilingual Plane (where all White_Space lies) and a stride through the others, at
    /// either end, must trim as the reference does.
    @Test func everyScalarAtEitherEndTrimsAsTheReference() {
        var checked = 0
        for value in Array(0...0xFFFF) + Array(stride(from: 0x10000, through: 0x10FFFF, by: 251)) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let mark = String(Character(scalar))
            for text in [mark + "x", "x" + mark, mark + "é" + mark, mark] {
                #expect(text.trimmingXMLWhitespace() == Self.reference(text), "U+\(String(value, radix: 16)) in \(text.debugDescription)")
                checked += 1
            }
        }
        #expect(checked > 4 * 60_000)
    }

    @Test func feedTextTrims() {
        #expect("\u{3000}全角\u{3000}".trimmingXMLWhitespace() == "全角")
        #expect("\u{A0}price\u{2009}".trimmingXMLWhitespace() == "price")
        #expect(" \t\r\n".trimmingXMLWhitespace() == "")
        #expect("".trimmingXMLWhitespace() == "")
        #expect("日本語。".trimmingXMLWhitespace() == "日本語。")
    }
}
