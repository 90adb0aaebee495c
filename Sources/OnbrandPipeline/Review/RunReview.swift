public import Foundation
import OnbrandImage

/// What a run's output folder holds, read back from its sidecars and manifest: the batch palette
/// check, the feeds for Merchant Center and Shopify, and the review gallery.
public struct RunReview: Sendable {
    public struct Entry: Sendable {
        public var sidecar: Sidecar
        /// The image's path under the brand folder (`catalog-packshot/SKU.en-US.png`).
        public var imagePath: String
    }

    /// A unit without an image: its manifest line.
    public struct Failure: Sendable, Codable {
        public var productID: String
        public var templateID: String
        public var locale: String
        public var state: String
        public var reason: String?
        public var failureKind: String?
    }

    public var root: URL
    public var brandName: String
    public var entries: [Entry]
    public var failures: [Failure]
    /// Share-weighted mean ΔE2000 over the images whose palette was measured; `nil` when none was.
    public var paletteMeanDeltaE: Double?
    public var batchTolerance: Double
    /// Images whose alt text repeats another image of the same product and locale (WCAG: each
    /// image of a gallery is described for what it shows).
    public var duplicateAltTexts: Set<String>
    public var isPaletteFlagged: Bool { (paletteMeanDeltaE ?? 0) > batchTolerance }

    /// Reads every sidecar under `root` (one folder per template) and the last manifest.
    public init(root: URL, brandName: String, batchTolerance: Double) throws {
        self.root = root
        self.brandName = brandName
        self.batchTolerance = batchTolerance
        var entries: [Entry] = []
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let folders = (try? FileManager.default.contentsOfDirectory(at: root, includingPropertiesForKeys: [.isDirectoryKey])) ?? []
        for folder in folders.sorted(by: { $0.lastPathComponent < $1.lastPathComponent })
        where (try? folder.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true && !folder.lastPathComponent.hasPrefix(".") {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
            for file in files.sorted() where file.hasSuffix(".json") {
                guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path),
                    var sidecar = try? decoder.decode(Sidecar.self, from: data)
                else { continue }
                // Kept for every image of a run, so the heavy parts the review never shows are dropped.
                sidecar.altTextAttempts = nil
                sidecar.rejectedModelAltTextLint = nil
                sidecar.grounding?.searchEntryPoint = nil
                entries.append(Entry(sidecar: sidecar, imagePath: "\(folder.lastPathComponent)/\(sidecar.image.file)"))
            }
        }
        self.entries = entries
        var duplicates: Set<String> = []
        for group in Dictionary(grouping: entries, by: { "\($0.sidecar.productID)\u{0}\($0.sidecar.locale)" }).values where group.count > 1 {
            let repeated = AltTextLinter.duplicates(in: group.map(\.sidecar.altText))
            for entry in group where repeated.contains(entry.sidecar.altText.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()) {
                duplicates.insert(entry.imagePath)
            }
        }
        self.duplicateAltTexts = duplicates
        var failures: [Failure] = []
        if let manifest = try? String(contentsOf: root.appendingPathComponent("manifest.jsonl"), encoding: .utf8) {
            for line in manifest.split(separator: "\n") {
                guard let failure = try? decoder.decode(Failure.self, from: Data(line.utf8)), failure.state != "succeeded", failure.state != "skipped"
                else { continue }
                failures.append(failure)
            }
        }
        self.failures = failures
        let measured = entries.compactMap { $0.sidecar.verification?.palette }.filter { $0.colors.contains { !$0.isNeutral } }
        paletteMeanDeltaE = measured.isEmpty ? nil : measured.map(\.meanDeltaE).reduce(0, +) / Double(measured.count)
    }

    // MARK: - Feeds

    /// Merchant Center's attribute for a template's role; catalog images without a role are additional images.
    static func merchantAttribute(for role: String?) -> String {
        switch role {
        case "image_link", "lifestyle_image_link": role!
        default: "additional_image_link"
        }
    }

    /// The URL of an image: `base` + its path, or the path itself when there is no base.
    static func url(_ path: String, base: String?) -> String {
        let encoded = path.split(separator: "/").map { $0.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? String($0) }.joined(separator: "/")
        guard let base, !base.isEmpty else { return encoded }
        return base.hasSuffix("/") ? base + encoded : base + "/" + encoded
    }

    /// Per locale, per product: the image for each Merchant attribute.
    func merchantRows(base: String?) -> [String: [(id: String, attributes: [String: [String]])]] {
        var byLocale: [String: [String: [String: [String]]]] = [:]
        for entry in entries {
            let attribute = Self.merchantAttribute(for: entry.sidecar.role)
            byLocale[entry.sidecar.locale, default: [:]][entry.sidecar.productID, default: [:]][attribute, default: []]
                .append(Self.url(entry.imagePath, base: base))
        }
        return byLocale.mapValues { products in products.keys.sorted().map { ($0, products[$0]!) } }
    }

    /// Writes `feeds/merchant-supplemental.<locale>.tsv` and `.xml` (RSS 2.0 with `g:`) and
    /// `feeds/shopify-image-alt.<locale>.csv`; returns the files written.
    @discardableResult
    public func writeFeeds(imageBaseURL: String?) throws -> [URL] {
        let folder = root.appendingPathComponent("feeds")
        var written: [URL] = []
        let columns = ["image_link", "additional_image_link", "lifestyle_image_link"]
        for (locale, rows) in merchantRows(base: imageBaseURL).sorted(by: { $0.key < $1.key }) {
            let stem = "merchant-supplemental.\(OutputWriter.safeStem(for: locale))"
            var tsv = (["id"] + columns).joined(separator: "\t") + "\n"
            var items = ""
            for row in rows {
                // Merchant Center takes one image_link; any others become additional images.
                var attributes = row.attributes
                if let links = attributes["image_link"], links.count > 1 {
                    attributes["image_link"] = [links[0]]
                    attributes["additional_image_link", default: []] += links.dropFirst()
                }
                let cells = [row.id] + columns.map { (attributes[$0] ?? []).joined(separator: ",") }
                tsv += cells.map(Self.tsvCell).joined(separator: "\t") + "\n"
                items += "    <item>\n      <g:id>\(Self.xml(row.id))</g:id>\n"
                for column in columns {
                    for link in attributes[column] ?? [] { items += "      <g:\(column)>\(Self.xml(link))</g:\(column)>\n" }
                }
                items += "    </item>\n"
            }
            let rss = """
                <?xml version="1.0" encoding="UTF-8"?>
                <rss version="2.0" xmlns:g="http://base.google.com/ns/1.0">
                  <channel>
                    <title>\(Self.xml(brandName)) images by Onbrand (\(Self.xml(locale)))</title>
                    <link>\(Self.xml(imageBaseURL ?? "https://example.invalid/"))</link>
                    <description>Supplemental feed: AI-generated product images.</description>
                \(items)  </channel>
                </rss>

                """
            for (name, text) in [("\(stem).tsv", tsv), ("\(stem).xml", rss)] {
                let url = folder.appendingPathComponent(name)
                try OutputWriter.write(Data(text.utf8), to: url)
                written.append(url)
            }
        }
        // Shopify's product CSV import reads images and their alt text by handle and position; one file
        // per locale, since a product's images carry one alt text each.
        for locale in Set(entries.map(\.sidecar.locale)).sorted() {
            var csv = "Handle,Image Src,Image Position,Image Alt Text\n"
            var positions: [String: Int] = [:]
            for entry in entries.filter({ $0.sidecar.locale == locale })
                .sorted(by: { ($0.sidecar.productID, $0.imagePath) < ($1.sidecar.productID, $1.imagePath) })
            {
                let position = positions[entry.sidecar.productID, default: 0] + 1
                positions[entry.sidecar.productID] = position
                csv += [entry.sidecar.productID, Self.url(entry.imagePath, base: imageBaseURL), String(position), entry.sidecar.altText]
                    .map(Self.csvCell).joined(separator: ",") + "\n"
            }
            let shopify = folder.appendingPathComponent("shopify-image-alt.\(OutputWriter.safeStem(for: locale)).csv")
            try OutputWriter.write(Data(csv.utf8), to: shopify)
            written.append(shopify)
        }
        return written
    }

    static func tsvCell(_ text: String) -> String {
        text.replacingOccurrences(of: "\t", with: " ").replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
    }

    static func csvCell(_ text: String) -> String {
        // A leading =, +, - or @ would run as a formula in a spreadsheet.
        var text = text
        if let first = text.first, "=+-@".contains(first) { text = "'" + text }
        guard text.contains(where: { ",\"\n\r".contains($0) }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
