import Foundation
public import OnbrandInputs

/// Checks alt text against the brand's alt-text style and common guidance (WCAG 1.1.1; IPTC:
/// about 125 characters, at most 250).
///
/// | rule | severity |
/// | --- | --- |
/// | not empty | error |
/// | within the brand's (or the locale's) maximum, default 125; never over 250 | error |
/// | no "image of", "picture of", "photo of" opening (in the brand's locales' languages) | error |
/// | no file names, URLs or SKUs | error |
/// | none of the brand's banned words (brand and locale) | error |
/// | names the product (a word of its title or type) | error |
/// | mentions the product's colour | warning (the colour may be translated) |
/// | written in the unit's language (script, then function words) | error |
/// | distinct across a product's gallery | warning (``duplicates(in:)``) |
public struct AltTextLinter: Sendable {
    public struct Finding: Sendable, Hashable, Codable {
        public enum Rule: String, Sendable, Hashable, Codable {
            case empty, tooLong, redundantOpening, fileNameOrURL, sku, bannedWord, missingProduct, missingColor, wrongLanguage
            case duplicate
        }

        public var rule: Rule
        public var isError: Bool
        public var message: String
    }

    /// IPTC's hard ceiling.
    public static let absoluteMaximum = 250

    public let brand: BrandGuide

    public init(brand: BrandGuide) {
        self.brand = brand
    }

    /// Every problem with `text` as alt text for `product` in `locale`.
    public func lint(_ text: String, product: Product, locale: String) -> [Finding] {
        var findings: [Finding] = []
        func error(_ rule: Finding.Rule, _ message: String) { findings.append(Finding(rule: rule, isError: true, message: message)) }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else {
            error(.empty, "the alt text is empty")
            return findings
        }
        let maximum = min(
            brand.locale(locale)?.altText?.maxLength ?? brand.altText?.maxLength ?? BrandGuide.AltTextStyle.defaultMaxLength,
            Self.absoluteMaximum)
        if trimmed.count > maximum { error(.tooLong, "\(trimmed.count) characters, more than the \(maximum) allowed") }

        let lowered = trimmed.lowercased()
        let languages = Set(brand.localeCodes.map(LocaleCode.language(of:)) + [LocaleCode.language(of: locale)])
        for language in languages {
            for opening in Self.redundantOpenings[language] ?? [] where lowered.hasPrefix(opening) {
                error(.redundantOpening, "starts with \"\(opening)\": screen readers already say it is an image")
            }
            for ending in Self.redundantEndings[language] ?? [] where lowered.hasSuffix(ending) {
                error(.redundantOpening, "ends with \"\(ending)\": screen readers already say it is an image")
            }
        }
        if lowered.contains("http://") || lowered.contains("https://") || lowered.contains("www.") {
            error(.fileNameOrURL, "contains a URL")
        }
        for word in Self.words(lowered) where [".png", ".jpg", ".jpeg", ".webp", ".gif"].contains(where: { word.hasSuffix($0) }) {
            error(.fileNameOrURL, "contains a file name (\(word))")
        }
        for code in [product.id, product.gtin, product.mpn].compactMap({ $0 }) where code.count >= 4 && trimmed.contains(code) {
            error(.sku, "contains the product code \(code)")
        }
        let banned = (brand.voice?.bannedWords ?? []) + (brand.locale(locale)?.bannedWords ?? [])
        for word in banned where Self.contains(lowered, word.lowercased()) {
            error(.bannedWord, "uses the banned word \"\(word)\"")
        }
        if !namesProduct(lowered, product) {
            error(.missingProduct, "does not name the product (\(product.title ?? product.id))")
        }
        if let color = product.color?.lowercased(), !Self.contains(lowered, color) {
            findings.append(Finding(rule: .missingColor, isError: false, message: "does not mention the colour (\(product.color!))"))
        }
        if let problem = languageProblem(trimmed, locale: locale) { error(.wrongLanguage, problem) }
        return findings
    }

    /// Alt texts that repeat within one product's images.
    public static func duplicates(in texts: [String]) -> Set<String> {
        var seen: Set<String> = []
        var repeated: Set<String> = []
        for text in texts.map({ $0.trimmingCharacters(in: .whitespacesAndNewlines).lowercased() }) where !seen.insert(text).inserted {
            repeated.insert(text)
        }
        return repeated
    }

    // MARK: - Rules

    static let redundantOpenings: [String: [String]] = [
        "en": ["image of", "picture of", "photo of", "photograph of", "an image of", "a picture of", "a photo of", "a photograph of"],
        "de": ["bild von", "bild eines", "bild einer", "foto von", "foto eines", "foto einer", "abbildung von", "abbildung eines", "abbildung einer"],
        "fr": ["image de", "image d'", "photo de", "photo d'", "photographie de", "une image de", "une photo de"],
        "es": ["imagen de", "foto de", "fotografía de", "una imagen de", "una foto de"],
        "ja": ["画像：", "画像:", "写真：", "写真:"],
    ]
    /// Japanese puts "image of" at the end: 「赤いジャケットの画像」.
    static let redundantEndings: [String: [String]] = [
        "ja": ["の画像", "の写真", "の画像です", "の写真です", "の画像。", "の写真。"]
    ]

    static let functionWords: [String: Set<String>] = [
        "en": ["the", "a", "an", "and", "with", "on", "in", "of", "for", "at"],
        "de": ["der", "die", "das", "und", "mit", "auf", "im", "ein", "eine", "einem", "einer", "vor", "aus"],
        "fr": ["le", "la", "les", "et", "avec", "sur", "dans", "un", "une", "des", "du"],
        "es": ["el", "la", "los", "las", "y", "con", "sobre", "en", "un", "una", "del"],
    ]

    private func namesProduct(_ lowered: String, _ product: Product) -> Bool {
        var candidates: [String] = []
        if let title = product.title?.lowercased() {
            candidates += Self.words(title).filter { $0.count >= 4 && !$0.allSatisfy(\.isNumber) }
        }
        if let type = product.productType?.split(separator: ">").last?.trimmingCharacters(in: .whitespaces).lowercased() {
            candidates += Self.words(type).filter { $0.count >= 4 }
            candidates.append(type)
        }
        guard !candidates.isEmpty else { return true }
        // CJK titles have no spaces: any run of two or more of the title's characters counts.
        if let title = product.title, title.unicodeScalars.contains(where: { $0.value >= 0x3040 }) {
            let characters = Array(title)
            for index in 0..<max(characters.count - 1, 0) where lowered.contains(String(characters[index...index + 1])) { return true }
        }
        return candidates.contains { Self.contains(lowered, $0) || (($0.hasSuffix("s") && Self.contains(lowered, String($0.dropLast())))) }
    }

    private func languageProblem(_ text: String, locale: String) -> String? {
        let language = LocaleCode.language(of: locale)
        let cjk = text.unicodeScalars.filter { (0x3040...0x30FF).contains($0.value) || (0x4E00...0x9FFF).contains($0.value) }.count
        let letters = text.unicodeScalars.filter { $0.properties.isAlphabetic }.count
        if ["ja", "zh"].contains(language) {
            return cjk * 3 < letters ? "is not written in \(locale): almost no Japanese or Chinese characters" : nil
        }
        if ["en", "de", "fr", "es"].contains(language), cjk * 3 > letters {
            return "is not written in \(locale): mostly CJK characters"
        }
        let words = Self.words(text.lowercased())
        guard words.count >= 6, let own = Self.functionWords[language] else { return nil }
        let ownCount = words.filter(own.contains).count
        for (other, list) in Self.functionWords where other != language {
            let otherCount = words.filter(list.contains).count
            if otherCount >= 2, otherCount > ownCount * 2 {
                return "reads as \(other), not \(locale)"
            }
        }
        return nil
    }

    static func words(_ text: String) -> [String] {
        text.split(whereSeparator: { $0.isWhitespace || ",;:!?()\"“”".contains($0) }).map { word in
            String(word).trimmingCharacters(in: CharacterSet(charactersIn: ".'"))
        }.filter { !$0.isEmpty }
    }

    /// Whole-word containment for Latin text, substring for CJK.
    static func contains(_ text: String, _ word: String) -> Bool {
        guard !word.isEmpty else { return false }
        if word.unicodeScalars.contains(where: { $0.value >= 0x3040 }) { return text.contains(word) }
        var searchRange = text.startIndex..<text.endIndex
        while let range = text.range(of: word, range: searchRange) {
            let before = range.lowerBound == text.startIndex ? nil : text[text.index(before: range.lowerBound)]
            let after = range.upperBound == text.endIndex ? nil : text[range.upperBound]
            if !(before?.isLetter ?? false), !(after?.isLetter ?? false) { return true }
            searchRange = range.upperBound..<text.endIndex
        }
        return false
    }
}
