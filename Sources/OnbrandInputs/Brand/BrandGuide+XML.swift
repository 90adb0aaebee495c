import Foundation
import OnbrandXML

/// Reads `brand.xml` into a ``BrandGuide``, reporting unknown elements and bad values by line and column.
struct BrandXMLReader {
    let file: String
    /// Directory that relative paths in the file are resolved against.
    let directory: String
    var diagnostics = Diagnostics()

    func location(_ element: XMLElement) -> SourceLocation {
        SourceLocation(file: file, line: element.line, column: element.column)
    }

    mutating func read(_ root: XMLElement, defaultID: String) -> BrandGuide {
        guard root.localName == "brand", root.namespaceURI == nil else {
            diagnostics.error(
                "the root element is <\(root.qualifiedName)>, not <brand>", at: location(root),
                hint: "a brand guide starts with <brand id=\"…\">; see brands/README.md")
            return BrandGuide(id: defaultID)
        }
        var brand = BrandGuide(id: root.attribute("id") ?? defaultID)
        brand.version = root.attribute("version")
        brand.extends = root.attribute("extends")
        brand.sourceFile = file
        for element in root.elements {
            switch element.localName {
            case "name": brand.name = text(element)
            case "tagline": brand.tagline = text(element)
            case "voice": brand.voice = voice(element)
            case "palette": brand.palette = palette(element)
            case "typography":
                brand.typography = children(element, named: "font").compactMap { font in
                    guard let role = required(font, "role"), let family = required(font, "family") else { return nil }
                    return BrandGuide.Typeface(
                        role: role, family: family, weight: font.attribute("weight"), fallback: font.attribute("fallback"))
                }
            case "logo":
                var logo = BrandGuide.Logo()
                logo.file = element.attribute("file").flatMap { path($0, at: element) }
                logo.rules = children(element, named: "rule").compactMap(text)
                if logo.rules?.isEmpty == true, element.elements.isEmpty { logo.rules = nil }
                brand.logo = logo
            case "imagery": brand.imagery = imagery(element)
            case "prohibited": brand.prohibited = children(element, named: "item").compactMap(text)
            case "disclaimers":
                brand.disclaimers = children(element, named: "disclaimer").compactMap { disclaimer in
                    text(disclaimer).map {
                        BrandGuide.Disclaimer(
                            text: $0, channel: disclaimer.attribute("channel"), locale: disclaimer.attribute("locale"))
                    }
                }
            case "alt-text": brand.altText = altText(element)
            case "channels":
                brand.channels = children(element, named: "channel").compactMap { channelElement in
                    guard let id = required(channelElement, "id") else { return nil }
                    var channel = BrandGuide.Channel(id: id)
                    for child in channelElement.elements {
                        switch child.localName {
                        case "background": channel.background = text(child)
                        case "note": channel.notes = (channel.notes ?? []) + [text(child)].compactMap { $0 }
                        default: unknown(child, in: channelElement, known: ["background", "note"])
                        }
                    }
                    return channel
                }
            case "locales":
                brand.locales = children(element, named: "locale").compactMap { locale($0) }
            case "reference-images":
                brand.referenceImages = children(element, named: "image").compactMap { image in
                    guard let file = required(image, "file"), let resolved = path(file, at: image) else { return nil }
                    guard let description = text(image) else {
                        diagnostics.error(
                            "<image> has no description", at: location(image),
                            hint: "say what the reference shows and why, e.g. <image file=\"hero.png\">Hero shot on slate</image>")
                        return nil
                    }
                    return BrandGuide.ReferenceImage(file: resolved, description: description)
                }
            case "defaults":
                var defaults = BrandGuide.Defaults()
                defaults.catalog = element.attribute("catalog").flatMap { path($0, at: element) }
                let templates = children(element, named: "template").compactMap { template in
                    text(template).flatMap { path($0, at: template) }
                }
                defaults.templates = templates.isEmpty ? nil : templates
                brand.defaults = defaults
            default:
                unknown(
                    element, in: root,
                    known: [
                        "name", "tagline", "voice", "palette", "typography", "logo", "imagery", "prohibited",
                        "disclaimers", "alt-text", "channels", "locales", "reference-images", "defaults",
                    ])
            }
        }
        return brand
    }

    // MARK: - Sections

    private mutating func voice(_ element: XMLElement) -> BrandGuide.Voice {
        var voice = BrandGuide.Voice()
        func add(_ keyPath: WritableKeyPath<BrandGuide.Voice, [String]?>, _ value: String?) {
            guard let value else { return }
            voice[keyPath: keyPath] = (voice[keyPath: keyPath] ?? []) + [value]
        }
        for child in element.elements {
            switch child.localName {
            case "adjective": add(\.adjectives, text(child))
            case "do": add(\.dos, text(child))
            case "dont": add(\.donts, text(child))
            case "sample": add(\.samplePhrases, text(child))
            case "banned-word": add(\.bannedWords, text(child))
            case "banned-claim": add(\.bannedClaims, text(child))
            default: unknown(child, in: element, known: ["adjective", "do", "dont", "sample", "banned-word", "banned-claim"])
            }
        }
        return voice
    }

    private mutating func palette(_ element: XMLElement) -> BrandGuide.Palette {
        var palette = BrandGuide.Palette()
        palette.tokensFile = element.attribute("tokens").flatMap { path($0, at: element) }
        palette.tokenPrefix = element.attribute("token-prefix")
        for (name, keyPath) in [("tolerance", \BrandGuide.Palette.tolerance), ("batch-tolerance", \BrandGuide.Palette.batchTolerance)] {
            guard let text = element.attribute(name) else { continue }
            if let value = Double(text), value > 0, value <= 100 {
                palette[keyPath: keyPath] = value
            } else {
                diagnostics.error(
                    "\(name) \"\(text)\" is not a ΔE2000 between 0 and 100", at: location(element),
                    hint: "3.0 is a difference most viewers notice side by side; 2.0 is strict")
            }
        }
        var colors: [BrandGuide.BrandColor] = []
        for child in element.elements {
            guard child.localName == "color" else {
                unknown(child, in: element, known: ["color"])
                continue
            }
            guard let name = required(child, "name") else { continue }
            let usage = child.attribute("usage").flatMap { usageText -> Double? in
                guard let value = Double(usageText.replacingOccurrences(of: "%", with: "")), (0...100).contains(value) else {
                    diagnostics.error(
                        "usage \"\(usageText)\" of colour \"\(name)\" is not a percentage", at: location(child),
                        hint: "write a number from 0 to 100, e.g. usage=\"40\"")
                    return nil
                }
                return value
            }
            if let hexText = child.attribute("hex") {
                guard let hex = HexColor.normalized(hexText) else {
                    diagnostics.error(
                        "colour \"\(name)\" has hex \"\(hexText)\", which is not a colour", at: location(child),
                        hint: "write #RGB, #RRGGBB or #RRGGBBAA, e.g. #1F4D3A")
                    continue
                }
                colors.append(BrandGuide.BrandColor(name: name, hex: hex, role: child.attribute("role"), usage: usage))
            } else if let token = child.attribute("token") {
                // The hex is filled in from the tokens file by the loader.
                colors.append(BrandGuide.BrandColor(name: name, hex: "", role: child.attribute("role"), usage: usage, token: token))
            } else {
                diagnostics.error(
                    "colour \"\(name)\" has neither hex nor token", at: location(child),
                    hint: "add hex=\"#RRGGBB\", or token=\"color.brand.primary\" with a tokens file on <palette>")
            }
        }
        palette.colors = colors.isEmpty && palette.tokensFile != nil ? nil : colors
        return palette
    }

    private mutating func imagery(_ element: XMLElement) -> BrandGuide.Imagery {
        var imagery = BrandGuide.Imagery()
        for child in element.elements {
            switch child.localName {
            case "lighting": imagery.lighting = text(child)
            case "background": imagery.background = text(child)
            case "composition": imagery.composition = text(child)
            case "props": imagery.props = text(child)
            case "people": imagery.people = text(child)
            default: unknown(child, in: element, known: ["lighting", "background", "composition", "props", "people"])
            }
        }
        return imagery
    }

    private mutating func altText(_ element: XMLElement) -> BrandGuide.AltTextStyle {
        var style = BrandGuide.AltTextStyle()
        style.tone = element.attribute("tone")
        style.language = element.attribute("language")
        if let captionText = element.attribute("caption") {
            switch captionText {
            case "true": style.caption = true
            case "false": style.caption = false
            default:
                diagnostics.error("caption \"\(captionText)\" is not true or false", at: location(element), hint: "write caption=\"true\" to add captions")
            }
        }
        if let maxText = element.attribute("max-length") {
            if let max = Int(maxText), (1...1000).contains(max) {
                style.maxLength = max
            } else {
                diagnostics.error(
                    "max-length \"\(maxText)\" is not a length", at: location(element),
                    hint: "write a whole number of characters; 125 is IPTC's guidance and the default")
            }
        }
        return style
    }

    private mutating func locale(_ element: XMLElement) -> BrandGuide.Locale? {
        guard let code = required(element, "code") else { return nil }
        if !LocaleCode.isValid(code) {
            diagnostics.error(
                "locale code \"\(code)\" is not a BCP 47 tag", at: location(element), hint: "write it as en-US, de-DE, ja-JP")
        }
        var locale = BrandGuide.Locale(code: code)
        locale.name = element.attribute("name")
        func add(_ keyPath: WritableKeyPath<BrandGuide.Locale, [String]?>, _ value: String?) {
            guard let value else { return }
            locale[keyPath: keyPath] = (locale[keyPath: keyPath] ?? []) + [value]
        }
        for child in element.elements {
            switch child.localName {
            case "note": add(\.notes, text(child))
            case "banned-word": add(\.bannedWords, text(child))
            case "disclaimer": add(\.disclaimers, text(child))
            case "alt-text": locale.altText = altText(child)
            default: unknown(child, in: element, known: ["note", "banned-word", "disclaimer", "alt-text"])
            }
        }
        return locale
    }

    // MARK: - Helpers

    private func text(_ element: XMLElement) -> String? {
        element.trimmedText.map(Self.collapsingWhitespace)
    }

    /// Runs of white space inside prose become one space: indentation in XML is not content.
    static func collapsingWhitespace(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" }).joined(separator: " ")
    }

    private mutating func children(_ element: XMLElement, named name: String) -> [XMLElement] {
        for child in element.elements where child.localName != name {
            unknown(child, in: element, known: [name])
        }
        return element.elements(name)
    }

    private mutating func required(_ element: XMLElement, _ attribute: String) -> String? {
        if let value = element.attribute(attribute)?.trimmingXMLWhitespace(), !value.isEmpty { return value }
        diagnostics.error(
            "<\(element.qualifiedName)> has no \(attribute)", at: location(element),
            hint: "add \(attribute)=\"…\" to <\(element.qualifiedName)>")
        return nil
    }

    private mutating func unknown(_ element: XMLElement, in parent: XMLElement, known: [String]) {
        diagnostics.warning(
            "unknown element <\(element.qualifiedName)> in <\(parent.qualifiedName)> is ignored", at: location(element),
            hint: "expected one of: " + known.map { "<\($0)>" }.joined(separator: ", "))
    }

    /// An absolute path for `relative`, reporting a file that does not exist.
    private mutating func path(_ relative: String, at element: XMLElement) -> String? {
        let resolved = BrandPaths.resolve(relative, against: directory)
        if !FileManager.default.fileExists(atPath: resolved) {
            diagnostics.error(
                "\"\(relative)\" does not exist (looked for \(resolved))", at: location(element),
                hint: "paths in a brand file are relative to the file itself")
        }
        return resolved
    }
}

/// Hex colour strings.
public enum HexColor {
    /// `#abc` → `#AABBCC`, `#1f4d3a` → `#1F4D3A`, `#1F4D3AFF` → `#1F4D3A`; `nil` if not a hex colour.
    public static func normalized(_ text: String) -> String? {
        var digits = text.trimmingXMLWhitespace()
        guard digits.hasPrefix("#") else { return nil }
        digits.removeFirst()
        guard digits.allSatisfy(\.isHexDigit) else { return nil }
        switch digits.count {
        case 3, 4: digits = digits.map { "\($0)\($0)" }.joined()
        case 6, 8: break
        default: return nil
        }
        digits = digits.uppercased()
        if digits.count == 8, digits.hasSuffix("FF") { digits.removeLast(2) }
        return "#" + digits
    }
}

/// BCP 47 language tags, checked loosely: a language subtag and optional script and region.
public enum LocaleCode {
    public static func isValid(_ code: String) -> Bool {
        let parts = code.split(separator: "-", omittingEmptySubsequences: false)
        guard let language = parts.first, (2...3).contains(language.count), language.allSatisfy(\.isLetter) else { return false }
        return parts.dropFirst().allSatisfy { part in
            (2...8).contains(part.count) && part.allSatisfy { $0.isLetter || $0.isNumber }
        }
    }

    /// The language subtag: `de-DE` → `de`.
    public static func language(of code: String) -> String {
        String(code.split(separator: "-").first ?? Substring(code)).lowercased()
    }
}

enum BrandPaths {
    static func resolve(_ path: String, against directory: String) -> String {
        let url = path.hasPrefix("/") ? URL(fileURLWithPath: path) : URL(fileURLWithPath: directory).appendingPathComponent(path)
        return url.standardizedFileURL.path
    }
}
