import Foundation
import GeminiKit
@testable import OnbrandPipeline
import Testing

/// The hand-written plan lines say exactly what `JSONEncoder` says: same keys, same values.
@Suite struct PlanLineWriterTests {
    static func json(_ data: Data) throws -> NSDictionary {
        try #require(try JSONSerialization.jsonObject(with: data) as? NSDictionary)
    }

    static func json(_ bytes: [UInt8]) throws -> NSDictionary { try json(Data(bytes)) }

    @Test func everyFieldOfARequestMatchesTheEncoder() throws {
        var text = Part(text: "Quotes \" and \\ backslashes, tabs\t, newlines\n, controls \u{1} \u{1F}, slashes / and ünïcödé 東京 🔥")
        text.thought = false
        text.thoughtSignature = "c2lnbmF0dXJl"
        let request = GenerateContentRequest(
            contents: [
                Content(role: "user", parts: [text, Part(inlineData: .init(mimeType: "image/png", data: "iVBORw0KGgo=")),
                                              Part(fileData: .init(mimeType: "image/png", fileUri: "https://generativelanguage.googleapis.com/v1beta/files/onbrand-1"))]),
                Content(role: nil, parts: [Part(fileData: .init(mimeType: nil, fileUri: "https://example.com/a.jpg"))]),
            ],
            systemInstruction: Content(parts: [Part(text: "system")]),
            tools: [Tool(googleSearch: .init(searchTypes: .init(webSearch: true, imageSearch: true))), Tool(googleSearch: .init())],
            generationConfig: GenerationConfig(
                responseModalities: ["TEXT", "IMAGE"], imageConfig: .init(aspectRatio: "16:9", imageSize: "2K"), maxOutputTokens: 100,
                candidateCount: 1, seed: 7, temperature: 0.25))
        let unit = WorkUnit(productID: "SKU/1\"", templateID: "t", locale: "de-DE")
        let handWritten = PlanLineWriter.requestLine(unit: unit, model: "m", request: request)
        let encoded = try WireCoding.encoder().encode(PlanWriter.RequestLine(unit: unit, model: "m", request: request))
        #expect(try Self.json(handWritten) == Self.json(encoded))
        #expect(handWritten.last == 0x0A && !handWritten.dropLast().contains(0x0A), "one line")
        #expect(Array(handWritten.dropLast()) == Array(encoded), "byte for byte what the encoder writes")
    }

    @Test func reportsMatchTheEncoder() throws {
        let report = BudgetReport(
            inputLimit: 131_072, outputReserve: 1880,
            sections: [
                .init(id: "a", priority: "required", kind: "text", outcome: .included, tokens: 10, fullTokens: 10, reason: nil),
                .init(id: "b", priority: "low", kind: "text", outcome: .trimmed, tokens: 5, fullTokens: 9, reason: "trimmed at a sentence"),
            ],
            inputTextTokens: 100, inputImages: 2, inputImageTokens: 2240, outputImageTokens: 1680, outputTextTokens: 200,
            costUSD: 0.10414, batchCostUSD: 0.05207, isExact: false, needsExactCount: true)
        let unit = WorkUnit(productID: "p", templateID: "t", locale: "en-US")
        for failure in [nil, "unknown model x"] as [String?] {
            let handWritten = PlanLineWriter.reportLine(unit: unit, model: "m", failure: failure, budget: report)
            let encoded = try WireCoding.encoder().encode(PlanWriter.ReportLine(unit: unit, model: "m", failure: failure, budget: report))
            #expect(try Self.json(handWritten) == Self.json(encoded))
            #expect(Array(handWritten.dropLast()) == Array(encoded), "byte for byte what the encoder writes")
        }
    }

    /// A line starts in a buffer of a few kilobytes and grows: an inline image of 300 KB and many
    /// parts come out as the encoder writes them.
    @Test func linesLongerThanTheFirstBufferGrow() throws {
        let blob = String(repeating: "iVBORw0KGgoAAAANSUhEUg==", count: 12_500)
        let parts = (0..<200).map { Part(text: "part \($0): \"quoted\" text\n") } + [Part(inlineData: .init(mimeType: "image/png", data: blob))]
        let request = GenerateContentRequest(contents: [Content(role: "user", parts: parts)])
        let unit = WorkUnit(productID: "p", templateID: "t", locale: "en-US")
        let handWritten = PlanLineWriter.requestLine(unit: unit, model: "m", request: request)
        let encoded = try WireCoding.encoder().encode(PlanWriter.RequestLine(unit: unit, model: "m", request: request))
        #expect(handWritten.count > 300_000)
        #expect(Array(handWritten.dropLast()) == Array(encoded), "byte for byte what the encoder writes")
    }

    /// Numbers are written digit by digit into room reserved for the longest: every length, both signs.
    @Test func integersOfEveryLengthMatchTheEncoder() throws {
        var values = [0, -1, Int.max, Int.min, Int.min + 1]
        var power = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power, -(power - 1)]
        }
        let unit = WorkUnit(productID: "p", templateID: "t", locale: "en-US")
        for value in values {
            let report = BudgetReport(
                inputLimit: value, outputReserve: 0,
                sections: [.init(id: "a", priority: "required", kind: "text", outcome: .included, tokens: value, fullTokens: value, reason: nil)],
                inputTextTokens: value, inputImages: 0, inputImageTokens: 0, outputImageTokens: 0, outputTextTokens: 0,
                costUSD: 0, batchCostUSD: 0, isExact: false, needsExactCount: false)
            let handWritten = PlanLineWriter.reportLine(unit: unit, model: "m", failure: nil, budget: report)
            let encoded = try WireCoding.encoder().encode(PlanWriter.ReportLine(unit: unit, model: "m", failure: nil, budget: report))
            #expect(Array(handWritten.dropLast()) == Array(encoded), "\(value)")
        }
    }

    /// Strings are scanned sixteen, then eight bytes at a time: every byte that needs escaping, at
    /// every offset within and across those blocks, next to ASCII and multi-byte text, is escaped as
    /// the encoder does.
    @Test func stringsAreEscapedAsTheEncoderDoesAtEveryOffset() throws {
        let specials: [Character] = ["\"", "\\", "\n", "\r", "\t", "\u{8}", "\u{C}", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "/", "é", "東", "🔥"]
        for special in specials {
            for length in 0..<40 {
                for offset in 0...length {
                    var text = String(repeating: "a", count: length)
                    text.insert(special, at: text.index(text.startIndex, offsetBy: offset))
                    let encoded = try WireCoding.encoder().encode([text])
                    #expect(Array(encoded) == [UInt8(ascii: "[")] + PlanLineWriter.escaped(text) + [UInt8(ascii: "]")], "\(text.debugDescription)")
                }
            }
        }
        let mixed = String(repeating: "Größe \"XL\"\t\\ 東京\n", count: 40)
        #expect(Array(try WireCoding.encoder().encode([mixed])) == [UInt8(ascii: "[")] + PlanLineWriter.escaped(mixed) + [UInt8(ascii: "]")])
    }

    /// Strings are escaped a segment at a time, with the worst case reserved for each: escapes on
    /// both sides of a segment's end, and a string made only of six-byte escapes, across several.
    @Test func longStringsAreEscapedAcrossSegments() throws {
        var texts = [String(repeating: "\u{1}", count: 9_000), String(repeating: "a\"", count: 5_000)]
        for offset in 4_090...4_100 {
            var text = String(repeating: "b", count: 8_300)
            text.insert("\n", at: text.index(text.startIndex, offsetBy: offset))
            texts.append(text)
        }
        for text in texts {
            let encoded = try WireCoding.encoder().encode([text])
            #expect(Array(encoded) == [UInt8(ascii: "[")] + PlanLineWriter.escaped(text) + [UInt8(ascii: "]")], "\(text.prefix(20).debugDescription)…")
        }
    }

    /// A worker's memo gives back what it wrote before (strings by their storage, costs by value,
    /// the generation config, report sections by place): with more strings and costs than it has
    /// slots, met in every order, and sections that differ from the last at their place in any
    /// one field, each line is the very line written without a memo.
    @Test func linesWrittenWithTheMemoAreTheLinesWrittenWithout() throws {
        let texts = (0..<600).map { "Rule \($0): \"keep\" the product in focus,\tnever on a white sweep; Größe 東京 \($0 * 7)" }
        let configs = [
            GenerationConfig(responseModalities: ["TEXT", "IMAGE"], imageConfig: .init(aspectRatio: "1:1", imageSize: "2K")),
            GenerationConfig(responseModalities: ["IMAGE"], imageConfig: .init(aspectRatio: "16:9", imageSize: "4K")),
        ]
        let memo = EncodingMemo()
        var random = SystemRandomNumberGenerator()
        for round in 0..<3_000 {
            // A few strings met again and again (the template's), the rest at random.
            let picked = [texts[round % 5], texts[5 + round % 3], texts[Int.random(in: 0..<texts.count, using: &random)]]
            let request = GenerateContentRequest(
                contents: [Content(role: "user", parts: picked.map { Part(text: $0) })], systemInstruction: Content(parts: [Part(text: texts[0])]),
                generationConfig: configs[round / 7 % 2])
            let unit = WorkUnit(productID: "p\(round)", templateID: "t", locale: "en-US")
            #expect(
                PlanLineWriter.requestLine(unit: unit, model: "m", request: request, memo: memo)
                    == PlanLineWriter.requestLine(unit: unit, model: "m", request: request))
            let cost = Double(Int.random(in: 1...5_000, using: &random)) * 0.000_031_7
            // Few values a field, so that a section often matches the last at its place but for one field.
            func pick<T>(_ values: [T]) -> T { values[Int.random(in: 0..<values.count, using: &random)] }
            let sections = (0..<Int.random(in: 0...4, using: &random)).map { _ in
                BudgetReport.Section(
                    id: pick(["brand-core", "product-facts", "a \"quoted\" id", "reference-images-of-the-brand", "caf\u{E9}", "cafe\u{301}"]),
                    priority: pick(["required", "low"]),
                    kind: pick(["text", "reference-images"]), outcome: pick([.included, .trimmed, .dropped]), tokens: pick([199, 63]),
                    fullTokens: pick([199, 2302]), reason: pick([nil, "over budget", "low priority"]))
            }
            let report = BudgetReport(
                inputLimit: 131_072, outputReserve: 1880, sections: sections, inputTextTokens: round, inputImages: 0, inputImageTokens: 0,
                outputImageTokens: 1680, outputTextTokens: 200, costUSD: cost, batchCostUSD: cost / 2, isExact: false, needsExactCount: false)
            #expect(
                PlanLineWriter.reportLine(unit: unit, model: "m", failure: nil, budget: report, memo: memo)
                    == PlanLineWriter.reportLine(unit: unit, model: "m", failure: nil, budget: report))
        }
    }
}
