import Foundation
@testable import OnbrandBudget
import OnbrandTestSupport
import Testing

@Suite struct SentencePieceTokenizerTests {
    /// The corpus manifest's token counts, made with the `sentencepiece` Python package.
    static func manifest() throws -> [(file: URL, gemma12: Int, gemma3: Int)]? {
        guard let shared = TestFiles.shared else { return nil }
        let directory = shared.appendingPathComponent("data/token-corpus")
        let text = try String(contentsOf: directory.appendingPathComponent("manifest.tsv"), encoding: .utf8)
        var rows = text.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
        let header = rows.removeFirst()
        let file = try #require(header.firstIndex(of: "file"))
        let g12 = try #require(header.firstIndex(of: "tokens_gemma1-2"))
        let g3 = try #require(header.firstIndex(of: "tokens_gemma3"))
        return rows.map { (directory.appendingPathComponent($0[file]), Int($0[g12])!, Int($0[g3])!) }
    }

    static func tokenizer(_ name: String) throws -> SentencePieceTokenizer? {
        guard let shared = TestFiles.shared else { return nil }
        return try SentencePieceTokenizer(contentsOf: shared.appendingPathComponent("data/tokenizers/\(name)").path)
    }

    @Test(arguments: ["gemma3_tokenizer.model", "gemma1-2_tokenizer.model", "gemma4_tokenizer.model"])
    func countsMatchSentencePieceOnEveryCorpusFile(model: String) throws {
        guard let rows = try Self.manifest(), let tokenizer = try Self.tokenizer(model) else {
            print("skipping: ../shared is absent, so the tokenizers and corpus are not available")
            return
        }
        #expect(rows.count >= 50)
        for row in rows {
            let text = try String(contentsOf: row.file, encoding: .utf8)
            let expected = model.hasPrefix("gemma1-2") ? row.gemma12 : row.gemma3
            #expect(tokenizer.count(text) == expected, "\(row.file.lastPathComponent)")
        }
    }

    /// Merging word by word (and reusing a word's tokens) gives exactly what merging the whole
    /// text does, including where Gemma 3's one piece with an inner space (`>▁</`) could form.
    @Test(arguments: ["gemma3_tokenizer.model", "gemma1-2_tokenizer.model", "gemma4_tokenizer.model"])
    func wordByWordMergingMatchesMergingTheWholeText(model: String) throws {
        guard let rows = try Self.manifest(), let tokenizer = try Self.tokenizer(model) else {
            print("skipping: ../shared is absent, so the tokenizers and corpus are not available")
            return
        }
        #expect(tokenizer.wordsMergeAlone)
        var texts = [
            "<b>bold</b> </i>", "a> </b> > </", "x >  </y", "<td> </td><td>  </td>", "> </", " > </ ",
            "plain words, plain words again and again", "  leading and trailing  ", "東京は 日本の首都です。 東京",
        ]
        texts += try rows.map { try String(contentsOf: $0.file, encoding: .utf8) }
        for text in texts {
            #expect(tokenizer.encode(text) == tokenizer.encodeWholeText(text), "\(text.prefix(40))")
        }
    }

    @Test func knownSentences() throws {
        guard let gemma3 = try Self.tokenizer("gemma3_tokenizer.model"), let gemma12 = try Self.tokenizer("gemma1-2_tokenizer.model")
        else {
            print("skipping: ../shared is absent, so the tokenizers are not available")
            return
        }
        // From ../shared/data/tokenizers/README.md, made with the sentencepiece package.
        let cases: [(String, Int, Int)] = [
            ("Hello, world! This is a test of the Gemma tokenizer.", 13, 13),
            ("Der schnelle braune Fuchs springt über den faulen Hund.", 13, 13),
            ("東京は日本の首都です。", 6, 6),
            ("안녕하세요, 만나서 반갑습니다.", 11, 6),
            ("<item><g:id>SKU-123</g:id><g:price>19.99 USD</g:price></item>", 34, 35),
            ("🔥🔥 New drop! 50% off 👟✨ #sale", 14, 14),
        ]
        for (text, old, new) in cases {
            #expect(gemma12.count(text) == old, "\(text)")
            #expect(gemma3.count(text) == new, "\(text)")
        }
        #expect(gemma3.count("") == 0)
        #expect(gemma3.count("2026") == 4, "every digit is its own token")
    }

    @Test func notAModelIsAClearError() throws {
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write("not a model", to: "x.model", in: directory)
            let error = try #require(throws: SentencePieceModel.LoadError.self) { try SentencePieceTokenizer(contentsOf: path) }
            #expect(error.description.hasPrefix("\(path): error:"))
        }
    }
}

@Suite struct TokenEstimatorTests {
    @Test func emptyAndSimpleTexts() {
        let estimator = TokenEstimator.gemini
        #expect(estimator.estimate("") == 0)
        #expect(estimator.estimate("2026") >= 4, "each digit is a token")
        #expect(estimator.estimate("東京は日本の首都です。") > estimator.estimate("Tokyo"))
    }

    @Test func unknownScalarsCostTheirBytes() {
        // U+10FFFF is no piece of the vocabulary: byte fallback, four tokens, before the margin.
        #expect(TokenEstimator.gemini.greedyPieceCount("\u{10FFFF}") == 4)
        #expect(TokenEstimator.gemini.greedyPieceCount(" the") == 1, "a common word with its space is one piece")
        #expect(TokenEstimator.gemini.greedyPieceCount("12345") == 5, "each digit is a token")
    }

    @Test func fingerprintsRoundTrip() {
        let values: [UInt64] = [1, 2, 300, 1 << 39, (1 << 40) - 1]
        #expect(VocabularyFingerprints.decode(VocabularyFingerprints.encode(values)) == values)
    }

    /// The goals on the corpus: mean absolute error at most 3 %, and no sample
    /// under-counted by more than 3 %.
    @Test func accurateOnTheCorpus() throws {
        guard let rows = try SentencePieceTokenizerTests.manifest() else {
            print("skipping: ../shared is absent, so the corpus is not available")
            return
        }
        var errors: [Double] = []
        for row in rows {
            let text = try String(contentsOf: row.file, encoding: .utf8)
            let estimate = Double(TokenEstimator.gemini.estimate(text))
            let error = (estimate - Double(row.gemma3)) / Double(row.gemma3) * 100
            errors.append(error)
            #expect(error >= -3.0, "\(row.file.lastPathComponent): \(error) %")
        }
        let meanAbsolute = errors.map(abs).reduce(0, +) / Double(errors.count)
        #expect(meanAbsolute <= 3.0)
    }

    /// Remembering lines and sentences changes nothing but the speed: the same count for every
    /// corpus file (each cut three times: a line is remembered when met the second time, used the
    /// third), for texts that share lines, for new lines made of sentences met before (at a line's
    /// start, after `.`, `;`, `!`, `?`, with marks that pieces join, such as `...` and `?!`), and
    /// for lines whose last cut reaches into the next line.
    @Test func reusingLinesGivesTheSameCounts() throws {
        var texts = [
            "Photograph the jacket as a clean packshot: the whole product, centred,\nfilling most of the frame.\n\n",
            "Photograph the boots as a clean packshot: the whole product, centred,\nfilling most of the frame.\nNo props.",
            "Photograph the jacket as a clean packshot: the whole product, centred,\nfilling most of the frame.\n\n\n",
            "first line that is long enough to remember\r\nsecond line that is long enough to remember\r\n",
            String(repeating: "東京は日本の首都です。東京は日本の首都です。\n", count: 3), "\n\n\n", "",
            // Lines and sentences just long enough to remember (12 bytes), and just too short.
            "Brand: Northwind.\nSize shown: XS.\nSize: XS.\nWeight: 562 g.\nWeight: 56 g.\n",
            "Size shown: XS. Weight: 562 g. Size: XS. Colour: Sand.\nSize shown: XS.",
        ]
        let sentences = [
            "The lightweight trail jacket in forest green is built from recycled nylon for long days outside.",
            " Fits true to size (XS); machine washable & backed by our <lifetime> guarantee.",
            " Fits true to size (XL); machine washable & backed by our <lifetime> guarantee!",
            " Is it waterproof?! Yes, to 10,000 mm... and it packs into its own pocket.",
            " Leichte, wasserdichte Jacke für Wanderungen im Gebirge – atmungsaktiv & robust.",
        ]
        for first in sentences.indices {
            for second in sentences.indices {
                texts.append("Description: " + sentences[first] + sentences[second] + sentences[(first + second) % sentences.count] + "\nWeight: 562 g.")
                texts.append(sentences[second] + " " + sentences[first] + ".\n" + sentences[first])
            }
        }
        if let rows = try SentencePieceTokenizerTests.manifest() {
            texts += try rows.map { try String(contentsOf: $0.file, encoding: .utf8) }
        }
        for _ in 0..<3 {
            for text in texts {
                #expect(TokenEstimator.gemini.estimateReusingLines(text) == TokenEstimator.gemini.estimate(text), "\(text.prefix(40))")
            }
        }
    }

    /// Sentence ends are found eight bytes a step: at every offset within and across those steps,
    /// and at the text's end, the end is the one a byte-by-byte scan finds (the space after a
    /// closing mark, or just after a line break).
    @Test func sentenceEndsAreFoundAtEveryOffset() {
        func slowSentenceEnd(after start: Int, in bytes: [UInt8]) -> Int {
            if bytes[start] == 0x0A { return start + 1 }
            for position in (start + 1)..<bytes.count {
                if bytes[position] == 0x0A { return position + 1 }
                if bytes[position] == 0x20, [UInt8](".!?;".utf8).contains(bytes[position - 1]) { return position }
            }
            return bytes.count
        }
        let marks = [". ", "! ", "? ", "; ", "\n", ".", ";x", "...", "?! ", "東京。", ".\n"]
        for mark in marks {
            for length in 0..<24 {
                for offset in 0...length {
                    var text = String(repeating: "a", count: length)
                    text.insert(contentsOf: mark, at: text.index(text.startIndex, offsetBy: offset))
                    let bytes = Array(text.utf8)
                    for start in bytes.indices {
                        let found = bytes.withUnsafeBufferPointer { LineMemo.sentenceEnd(after: start, in: $0) }
                        #expect(found == slowSentenceEnd(after: start, in: bytes), "\(text.debugDescription) from \(start)")
                    }
                }
            }
        }
    }
}
