public import Foundation

/// What Onbrand checked in an image that came back, recorded in its sidecar and shown in the
/// gallery.
public struct ImageVerification: Sendable, Codable, Hashable {
    public var format: ImageInfo.Format
    public var width: Int?
    public var height: Int?
    public var bytes: Int
    /// Within 3 % of the requested aspect ratio (proxies drop `imageConfig`).
    public var ratioMatches: Bool?
    /// The exact pixel size the model's size tier gives for the ratio (±2 %).
    public var sizeMatches: Bool?
    /// The file's extension names its real format.
    public var extensionMatches: Bool
    /// Merchant Center's image rules, for catalog images; `nil` when not checked.
    public var merchantProblems: [String]?
    public var palette: PaletteScore?
    /// Why the palette could not be measured (a JPEG, a 16-bit PNG …).
    public var paletteNotMeasured: String?
    /// Every check that failed, in words.
    public var problems: [String]

    public var passed: Bool { problems.isEmpty }
}

/// The image's dominant colours against the brand palette.
public struct PaletteScore: Sendable, Codable, Hashable {
    public struct DominantColor: Sendable, Codable, Hashable {
        public var hex: String
        /// Share of the image's pixels, 0 to 1.
        public var share: Double
        /// The nearest brand colour and its distance (ΔE2000); neutrals are reported but not held
        /// to the palette.
        public var nearest: String?
        public var deltaE: Double?
        public var isNeutral: Bool
        public var flagged: Bool
    }

    public var colors: [DominantColor]
    /// Share-weighted mean ΔE2000 of the chromatic dominant colours; 0 when all are neutral.
    public var meanDeltaE: Double
    public var threshold: Double
    public var flagged: Bool
}

/// Checks an image file against what was asked.
public struct ImageVerifier: Sendable {
    public struct Expectation: Sendable {
        public var aspectRatio: String
        /// The exact size the model gives for the ratio and size tier, when known.
        public var width: Int?
        public var height: Int?
        public var fileName: String
        /// Check Merchant Center's rules (catalog templates); apparel needs 250×250.
        public var merchantRules: Bool
        public var isApparel: Bool

        public init(aspectRatio: String, width: Int?, height: Int?, fileName: String, merchantRules: Bool, isApparel: Bool) {
            self.aspectRatio = aspectRatio
            self.width = width
            self.height = height
            self.fileName = fileName
            self.merchantRules = merchantRules
            self.isApparel = isApparel
        }
    }

    /// The brand's palette: name and colour.
    public var palette: [(name: String, color: LabColor)]
    /// ΔE2000 above which a dominant colour is off-palette (the brand's setting; 3.0 by default).
    public var threshold: Double
    /// Colours with less chroma than this are neutrals (white backgrounds, shadows, greys).
    public var neutralChroma = 8.0

    public init(palette: [(name: String, hex: String)], threshold: Double = 3.0) {
        self.palette = palette.compactMap { entry in LabColor(hex: entry.hex).map { (entry.name, $0) } }
        self.threshold = threshold
    }

    public func verify(_ data: Data, expecting expectation: Expectation) -> ImageVerification {
        var problems: [String] = []
        let info = (try? ImageContainer.info(of: data)) ?? ImageInfo(format: ImageContainer.format(of: data), hasC2PA: false)
        var verification = ImageVerification(
            format: info.format, width: info.width, height: info.height, bytes: data.count, extensionMatches: true, problems: [])

        let suffix = (expectation.fileName as NSString).pathExtension.lowercased()
        let expected: Set<String> = switch info.format {
        case .png: ["png"]
        case .jpeg: ["jpg", "jpeg"]
        case .webp: ["webp"]
        case .unknown: []
        }
        verification.extensionMatches = expected.contains(suffix)
        if !verification.extensionMatches { problems.append("the file is \(info.format.rawValue) but named .\(suffix)") }

        if let width = info.width, let height = info.height, width > 0, height > 0 {
            let parts = expectation.aspectRatio.split(separator: ":").compactMap { Double($0) }
            if parts.count == 2, parts[0] > 0, parts[1] > 0 {
                let wanted = parts[0] / parts[1], actual = Double(width) / Double(height)
                verification.ratioMatches = abs(actual - wanted) / wanted <= 0.03
                if verification.ratioMatches == false {
                    problems.append("\(width)×\(height) is not \(expectation.aspectRatio) (±3 %): the gateway may have dropped imageConfig")
                }
            }
            if let wantedWidth = expectation.width, let wantedHeight = expectation.height {
                verification.sizeMatches = abs(width - wantedWidth) <= wantedWidth / 50 && abs(height - wantedHeight) <= wantedHeight / 50
                if verification.sizeMatches == false { problems.append("\(width)×\(height) is not the \(wantedWidth)×\(wantedHeight) asked for") }
            }
            if expectation.merchantRules {
                var merchant: [String] = []
                let minimum = expectation.isApparel ? 250 : 100
                if width < minimum || height < minimum {
                    merchant.append("Merchant Center needs at least \(minimum)×\(minimum) pixels\(expectation.isApparel ? " for apparel" : "")")
                }
                if Double(width) * Double(height) > 64_000_000 { merchant.append("Merchant Center allows at most 64 megapixels") }
                if data.count > 16 << 20 { merchant.append("Merchant Center allows at most 16 MB per image") }
                if !verification.extensionMatches { merchant.append("Merchant Center needs the extension to match the format") }
                verification.merchantProblems = merchant
                problems += merchant.filter { !$0.contains("extension") }
            }
        } else {
            problems.append("the image's size could not be read")
        }

        if info.format == .png || info.format == .jpeg {
            do {
                verification.palette = try score(data)
                if verification.palette?.flagged == true {
                    let off = verification.palette!.colors.filter(\.flagged).map { "\($0.hex) (ΔE \(String(format: "%.1f", $0.deltaE ?? 0)) from \($0.nearest ?? "?"))" }
                    problems.append("off-palette colours: " + off.joined(separator: ", "))
                }
            } catch {
                verification.paletteNotMeasured = error.reason
            }
        } else {
            verification.paletteNotMeasured = "palette scoring reads PNG and JPEG images; this one is \(info.format.rawValue)"
        }
        verification.problems = problems
        return verification
    }

    /// Dominant colours: pixels (a sample of rows) binned at 5 bits a channel; bins holding at
    /// least 3 % of the sample, largest first, at most six, each as its bin's mean colour.
    public func score(_ data: Data) throws(ImageFileError) -> PaletteScore {
        var counts = [Int](repeating: 0, count: 1 << 15)
        var sums = [SIMD3<Int>](repeating: .zero, count: 1 << 15)
        var sampled = 0
        let info = try ImageContainer.info(of: data)
        let rowStep = max((info.height ?? 1) / 256, 1)
        let columnStep = max((info.width ?? 1) / 256, 1)
        let sample = { (y: Int, rgb: UnsafeBufferPointer<UInt8>) in
            guard y % rowStep == 0 else { return }
            var x = 0
            while x * 3 + 2 < rgb.count {
                let (r, g, b) = (Int(rgb[x * 3]), Int(rgb[x * 3 + 1]), Int(rgb[x * 3 + 2]))
                let bin = (r >> 3) << 10 | (g >> 3) << 5 | (b >> 3)
                counts[bin] += 1
                sums[bin] &+= SIMD3(r, g, b)
                sampled += 1
                x += columnStep
            }
        }
        if info.format == .jpeg {
            _ = try JPEGPixels.forEachRow(data, step: rowStep, sample)
        } else {
            _ = try PNGPixels.forEachRow(data, sample)
        }
        guard sampled > 0 else { return PaletteScore(colors: [], meanDeltaE: 0, threshold: threshold, flagged: false) }
        let top = counts.indices.filter { Double(counts[$0]) / Double(sampled) >= 0.03 }.sorted { counts[$0] > counts[$1] }.prefix(6)
        var colors: [PaletteScore.DominantColor] = []
        var weighted = 0.0
        var chromaticShare = 0.0
        for bin in top {
            let mean = sums[bin] / counts[bin]
            let (r, g, b) = (UInt8(clamping: mean.x), UInt8(clamping: mean.y), UInt8(clamping: mean.z))
            let lab = LabColor(red: r, green: g, blue: b)
            let share = Double(counts[bin]) / Double(sampled)
            let nearest = palette.map { ($0.name, deltaE2000(lab, $0.color)) }.min { $0.1 < $1.1 }
            let isNeutral = lab.chroma < neutralChroma
            let flagged = !isNeutral && (nearest.map { $0.1 > threshold } ?? false)
            if !isNeutral, let nearest {
                weighted += nearest.1 * share
                chromaticShare += share
            }
            colors.append(.init(
                hex: String(format: "#%02X%02X%02X", r, g, b), share: share, nearest: nearest?.0, deltaE: nearest?.1,
                isNeutral: isNeutral, flagged: flagged))
        }
        let mean = chromaticShare > 0 ? weighted / chromaticShare : 0
        return PaletteScore(colors: colors, meanDeltaE: mean, threshold: threshold, flagged: colors.contains(where: \.flagged))
    }
}
