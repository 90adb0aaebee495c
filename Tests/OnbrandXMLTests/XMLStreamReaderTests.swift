import Foundation
import OnbrandTestSupport
import OnbrandXML
import Testing

@Suite struct XMLStreamReaderTests {
    static let feed = """
        <?xml version="1.0" encoding="UTF-8"?>
        <rss xmlns:g="http://base.google.com/ns/1.0" version="2.0"><channel>
        <title>Shop</title>
        <item><g:id>A1</g:id><g:shipping><g:country>US</g:country></g:shipping></item>
          <item>
            <g:id>A2</g:id>
          </item><item><g:id>A3</g:id></item>
        </channel></rss>
        """

    @Test func streamsMatchingElementsWhole() throws {
        let reader = try XMLStreamReader(data: Data(Self.feed.utf8), displayName: "feed.xml")
        var ids: [String] = []
        while let item = try reader.nextElement(where: { name, _ in name.localName == "item" }) {
            ids.append(item.firstElement("id", namespace: XMLNamespace.googleBase)?.trimmedText ?? "?")
            if ids.count == 1 {
                #expect(item.firstElement("shipping", namespace: XMLNamespace.googleBase)?.firstElement("country", namespace: XMLNamespace.googleBase)?.trimmedText == "US")
            }
        }
        #expect(ids == ["A1", "A2", "A3"])
        #expect(reader.root?.localName == "rss")
    }

    @Test func ordinalsFindExactColumnsLater() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(Self.feed, to: "feed.xml", in: directory)
            let reader = try XMLStreamReader(contentsOf: path)
            var ordinals: [Int] = []
            while try reader.nextElement(where: { name, _ in name.localName == "item" }) != nil { ordinals.append(reader.ordinal) }
            let positions = reader.positions(ofOrdinals: Set(ordinals))
            #expect(ordinals.compactMap { positions[$0] } == [
                SourcePosition(line: 4, column: 1), SourcePosition(line: 5, column: 3), SourcePosition(line: 7, column: 10),
            ])
        }
    }

    @Test func recordReaderReportsFieldsAsEvents() throws {
        let reader = try XMLRecordReader(data: Data(Self.feed.utf8), displayName: "feed.xml")
        var texts: [[String]] = []
        while true {
            var record: [String] = []
            let found = try reader.nextRecord(where: { $0.localName == "item" }) { event in
                switch event {
                case .start(let symbol, let depth, _): record.append("\(depth):\(reader.name(of: symbol).localName)")
                case .text(let text): record.append(text)
                case .end: break
                }
            }
            guard found else { break }
            texts.append(record)
        }
        #expect(texts == [["1:id", "A1", "1:shipping", "2:country", "US"], ["1:id", "A2"], ["1:id", "A3"]])
    }

    @Test func truncatedStreamFailsWithItsLine() throws {
        let truncated = String(Self.feed.prefix(while: { $0 != "A" })) + "A2</g:id"
        let reader = try XMLStreamReader(data: Data(truncated.utf8), displayName: "feed.xml")
        let error = try #require(throws: XMLError.self) {
            while try reader.nextElement(where: { name, _ in name.localName == "item" }) != nil {}
        }
        #expect(error.file == "feed.xml")
        #expect(error.line == 4)
    }
}
