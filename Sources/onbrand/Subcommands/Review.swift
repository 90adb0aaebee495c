import ArgumentParser
import Foundation
import OnbrandInputs
import OnbrandPipeline

/// `onbrand review DIR`: writes a run folder's gallery and feeds again (after moving the images,
/// or to give the feeds absolute links).
struct Review: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write a run's review gallery (index.html) and its Merchant Center and Shopify feeds again, from its sidecars."
    )

    @Argument(help: "The brand's output folder (OUT/<brand>), as `onbrand run` wrote it.")
    var directory: String

    @Option(name: .customLong("image-base-url"), help: "Where the images will be served; makes the feeds' links absolute.")
    var imageBaseURL: String?

    @Option(name: .customLong("batch-tolerance"), help: "The highest acceptable mean ΔE2000 over the images.")
    var batchTolerance = BrandGuide.Palette.defaultBatchTolerance

    func run() throws {
        let root = URL(fileURLWithPath: directory)
        guard FileManager.default.fileExists(atPath: root.appendingPathComponent("manifest.jsonl").path) else {
            Output.note("\(directory): error: no manifest.jsonl here; give the folder `onbrand run` wrote (OUT/<brand>)")
            throw ExitCode(2)
        }
        let review = try RunReview(root: root, brandName: root.lastPathComponent, batchTolerance: batchTolerance)
        let feeds = try review.writeFeeds(imageBaseURL: imageBaseURL)
        let gallery = try review.writeGallery()
        let flagged = review.flaggedCount
        Output.result(
            "\(review.entries.count) images, \(review.failures.count) without an image, \(flagged) flagged\n"
                + "review: \(Output.shortPath(gallery.path))\nfeeds: " + feeds.map { Output.shortPath($0.path) }.joined(separator: ", "))
    }
}
