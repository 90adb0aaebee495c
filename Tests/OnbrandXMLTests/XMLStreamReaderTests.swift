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

    /// Records what an ``XMLRecordReader`` reports, one line per event.
    final class Recorder: XMLRecordHandler {
        var records: [[String]] = []
        func isRecord(_ name: XMLName) -> Bool { name.localName == "item" }
        func recordStarted(_ reader: XMLRecordReader, attributes: [XMLAttribute]) { records.append(["line \(reader.line)"]) }
        func elementStarted(_ reader: XMLRecordReader, symbol: Int, depth: Int, attributes: [XMLAttribute]) {
            records[records.count - 1].append("\(depth):\(reader.name(of: symbol).localName)")
        }
        func elementEnded(_ reader: XMLRecordReader, depth: Int, text: consuming String?) {
            if let text { records[records.count - 1].append(text) }
        }
        func recordEnded(_ reader: XMLRecordReader) { records[records.count - 1].append("end") }
    }

    @Test func recordReaderReportsFieldsAsEvents() throws {
        let reader = try XMLRecordReader(data: Data(Self.feed.utf8), displayName: "feed.xml")
        let recorder = Recorder()
        while try reader.readChunk(into: recorder) {}
        #expect(recorder.records == [
            ["line 4", "1:id", "A1", "1:shipping", "2:country", "US", "end"],
            ["line 5", "1:id", "A2", "end"],
            ["line 7", "1:id", "A3", "end"],
        ])
        #expect(reader.root?.localName == "rss")
    }

    @Test func recordReaderRefusesDoctypeAndLocatesTruncation() throws {
        let doctype = "<?xml version=\"1.0\"?>\n<!DOCTYPE rss [<!ENTITY x \"y\">]>\n<rss><item>&x;</item></rss>"
        let attack = try XMLRecordReader(data: Data(doctype.utf8), displayName: "d.xml")
        let refused = try #require(throws: XMLError.self) { while try attack.readChunk(into: Recorder()) {} }
        #expect(refused.message.contains("DOCTYPE"))
        let cut = try XMLRecordReader(data: Data(Self.feed.prefix(200).utf8), displayName: "cut.xml")
        let truncated = try #require(throws: XMLError.self) { while try cut.readChunk(into: Recorder()) {} }
        #expect(truncated.message.contains("still open"), "\(truncated)")
        #expect(truncated.hint?.contains("truncated") == true)
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
