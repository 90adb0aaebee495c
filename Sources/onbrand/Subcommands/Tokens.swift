import ArgumentParser
import Foundation
import OnbrandBudget

/// `onbrand tokens`: how many tokens files hold, estimated or exact.
struct Tokens: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Count the tokens in files: estimated, or exact with a SentencePiece model.",
        discussion: "Prints one COUNT<TAB>FILE line per file. Without --tokenizer the count is Onbrand's estimate for Gemini text."
    )

    @Option(help: "The model whose tokenizer to estimate (Gemini image models share one vocabulary).")
    var model: String = "gemini-3.1-flash-image-preview"

    @Option(help: "A SentencePiece .model file (e.g. a Gemma tokenizer) for exact counts.")
    var tokenizer: String?

    @Argument(help: "Text files to count.")
    var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("give at least one file to count") }
    }

    func run() throws {
        let counter: (String) -> Int
        if let tokenizer {
            do {
                let exact = try SentencePieceTokenizer(contentsOf: tokenizer)
                counter = exact.count
            } catch {
                Output.note(error.description)
                throw ExitCode(2)
            }
        } else {
            counter = TokenEstimator.gemini.estimate
        }
        var failed = false
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                Output.note("\(file): error: cannot read the file")
                failed = true
                continue
            }
            guard let text = String(data: data, encoding: .utf8) else {
                Output.note("\(file): error: the file is not UTF-8 text")
                failed = true
                continue
            }
            Output.result("\(counter(text))\t\(file)")
        }
        if failed { throw ExitCode.failure }
    }
}
