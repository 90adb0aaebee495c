public import Foundation

/// Writes a unit's files atomically: each to a temporary name in the same folder, then renamed,
/// so a crash leaves either the old file or the new one, never half of one.
public enum OutputWriter {
    /// The suffix of files being written; leftovers from a crash are removed at the next start.
    public static let partialSuffix = ".partial"

    public static func write(_ data: Data, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let temporary = url.appendingPathExtension(String(partialSuffix.dropFirst()))
        try data.write(to: temporary)
        if FileManager.default.fileExists(atPath: url.path) { try FileManager.default.removeItem(at: url) }
        try FileManager.default.moveItem(at: temporary, to: url)
    }

    /// Removes `*.partial` files under `directory`.
    public static func removePartialFiles(under directory: URL) {
        guard let enumerator = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil) else { return }
        for case let url as URL in enumerator where url.lastPathComponent.hasSuffix(partialSuffix) {
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// A file-name stem for a product ID that is safe whatever the ID holds (`../`, `/`, NUL,
    /// reserved names, 300 characters), unique (a hash of the ID is appended when the ID had to be
    /// changed) and stable between runs.
    public static func safeStem(for id: String) -> String {
        var stem = ""
        for scalar in id.unicodeScalars {
            if scalar.isASCII, scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == "." {
                stem.unicodeScalars.append(scalar)
            } else if !stem.hasSuffix("_") {
                stem += "_"
            }
        }
        while stem.hasPrefix(".") || stem.hasPrefix("_") { stem.removeFirst() }
        while stem.hasSuffix(".") || stem.hasSuffix("_") { stem.removeLast() }
        stem = String(stem.prefix(80))
        let changed = stem != id || stem.isEmpty || isReserved(stem)
        if changed { stem = (stem.isEmpty ? "product" : stem) + "-" + Fingerprint.short(id) }
        return stem
    }

    private static func isReserved(_ stem: String) -> Bool {
        let base = stem.split(separator: ".").first.map { $0.uppercased() } ?? ""
        return ["CON", "PRN", "AUX", "NUL"].contains(base) || (base.count == 4 && (base.hasPrefix("COM") || base.hasPrefix("LPT")) && base.last!.isNumber)
    }

    /// The extension for an image MIME type.
    public static func fileExtension(for mimeType: String?) -> String {
        switch mimeType {
        case "image/jpeg": "jpg"
        case "image/webp": "webp"
        default: "png"
        }
    }
}
