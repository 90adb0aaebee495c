import ArgumentParser
import Foundation
import OnbrandImage

/// `onbrand inspect-image FILE`: the metadata Onbrand wrote into an image, read back.
struct InspectImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect-image",
        abstract: "Show an image's format, size, C2PA presence and the XMP alt text, extended description and AI source type it carries."
    )

    @Argument(help: "A PNG or JPEG file.")
    var file: String

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        guard let data = FileManager.default.contents(atPath: file) else {
            Output.note("\(file): error: cannot read the file")
            throw ExitCode(2)
        }
        let info: ImageInfo
        do { info = try ImageContainer.info(of: data) } catch {
            Output.note("\(file): error: \(error.reason)")
            throw ExitCode.failure
        }
        var metadata: ImageMetadata?
        var problem: String?
        if let packet = info.xmp {
            do { metadata = try XMPPacket.parse(packet) } catch { problem = "the XMP packet is not well-formed XML: \(error)" }
        }
        if json {
            var object: [String: Any] = [
                "file": file, "format": info.format.rawValue, "bytes": data.count, "c2pa": info.hasC2PA, "xmp": info.xmp != nil,
            ]
            if let width = info.width, let height = info.height { object["width"] = width; object["height"] = height }
            if let metadata {
                object["altText"] = Dictionary(metadata.altText.map { ($0.language, $0.text) }, uniquingKeysWith: { first, _ in first })
                object["extendedDescription"] = Dictionary(metadata.extendedDescription.map { ($0.language, $0.text) }, uniquingKeysWith: { first, _ in first })
                object["digitalSourceType"] = metadata.digitalSourceType
                if !metadata.caption.isEmpty { object["caption"] = Dictionary(metadata.caption.map { ($0.language, $0.text) }, uniquingKeysWith: { first, _ in first }) }
            }
            if let problem { object["problem"] = problem }
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
            Output.result(String(decoding: data, as: UTF8.self))
            return
        }
        var lines = ["\(file): \(info.format.rawValue), \(info.width.map(String.init) ?? "?")×\(info.height.map(String.init) ?? "?"), \(data.count) bytes"]
        lines.append("C2PA manifest: \(info.hasC2PA ? "present" : "none")")
        if let metadata {
            for text in metadata.altText { lines.append("alt text [\(text.language)]: \(text.text)") }
            for text in metadata.extendedDescription { lines.append("extended description [\(text.language)]: \(text.text)") }
            for text in metadata.caption { lines.append("caption [\(text.language)]: \(text.text)") }
            lines.append("digital source type: \(metadata.digitalSourceType ?? "none")")
        } else {
            lines.append(problem ?? "XMP: none")
        }
        Output.result(lines.joined(separator: "\n"))
    }
}
