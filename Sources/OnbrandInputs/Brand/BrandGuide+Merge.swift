/// Field-by-field inheritance for sub-brands (`extends`).
///
/// The child wins wherever it says something: a scalar it sets, a list it gives (even empty).
/// Nested groups (voice, palette, logo, imagery, alt text, defaults) merge field by field too;
/// channels and locales merge by their id and code.
extension BrandGuide {
    /// This guide with every field it leaves out taken from `parent`.
    public func inheriting(from parent: BrandGuide) -> BrandGuide {
        var merged = self
        merged.version = version ?? parent.version
        merged.name = name ?? parent.name
        merged.tagline = tagline ?? parent.tagline
        merged.voice = Self.merge(voice, parent.voice) { child, parent in
            var voice = child
            voice.adjectives = child.adjectives ?? parent.adjectives
            voice.dos = child.dos ?? parent.dos
            voice.donts = child.donts ?? parent.donts
            voice.samplePhrases = child.samplePhrases ?? parent.samplePhrases
            voice.bannedWords = child.bannedWords ?? parent.bannedWords
            voice.bannedClaims = child.bannedClaims ?? parent.bannedClaims
            return voice
        }
        merged.palette = Self.merge(palette, parent.palette) { child, parent in
            var palette = child
            palette.tokensFile = child.tokensFile ?? parent.tokensFile
            palette.tokenPrefix = child.tokenPrefix ?? parent.tokenPrefix
            palette.tolerance = child.tolerance ?? parent.tolerance
            palette.batchTolerance = child.batchTolerance ?? parent.batchTolerance
            palette.colors = Self.mergeByKey(child.colors, parent.colors, key: \.name) { child, _ in child }
            return palette
        }
        merged.typography = Self.mergeByKey(typography, parent.typography, key: \.role) { child, _ in child }
        merged.logo = Self.merge(logo, parent.logo) { child, parent in
            var logo = child
            logo.file = child.file ?? parent.file
            logo.rules = child.rules ?? parent.rules
            return logo
        }
        merged.imagery = Self.merge(imagery, parent.imagery) { child, parent in
            var imagery = child
            imagery.lighting = child.lighting ?? parent.lighting
            imagery.background = child.background ?? parent.background
            imagery.composition = child.composition ?? parent.composition
            imagery.props = child.props ?? parent.props
            imagery.people = child.people ?? parent.people
            return imagery
        }
        merged.prohibited = prohibited ?? parent.prohibited
        merged.disclaimers = disclaimers ?? parent.disclaimers
        merged.altText = Self.merge(altText, parent.altText, AltTextStyle.inheriting)
        merged.channels = Self.mergeByKey(channels, parent.channels, key: \.id) { child, parent in
            var channel = child
            channel.background = child.background ?? parent.background
            channel.notes = child.notes ?? parent.notes
            return channel
        }
        merged.locales = Self.mergeByKey(locales, parent.locales, key: \.code) { child, parent in
            var locale = child
            locale.name = child.name ?? parent.name
            locale.notes = child.notes ?? parent.notes
            locale.bannedWords = child.bannedWords ?? parent.bannedWords
            locale.disclaimers = child.disclaimers ?? parent.disclaimers
            locale.altText = Self.merge(child.altText, parent.altText, AltTextStyle.inheriting)
            return locale
        }
        merged.referenceImages = referenceImages ?? parent.referenceImages
        merged.defaults = Self.merge(defaults, parent.defaults) { child, parent in
            var defaults = child
            defaults.catalog = child.catalog ?? parent.catalog
            defaults.templates = child.templates ?? parent.templates
            return defaults
        }
        return merged
    }

    private static func merge<T>(_ child: T?, _ parent: T?, _ combine: (T, T) -> T) -> T? {
        switch (child, parent) {
        case (let child?, let parent?): combine(child, parent)
        case (let child?, nil): child
        case (nil, let parent): parent
        }
    }

    /// Entries present in both merge; the parent's order first, the child's new entries after.
    private static func mergeByKey<T>(
        _ child: [T]?, _ parent: [T]?, key: KeyPath<T, String>, _ combine: (T, T) -> T
    ) -> [T]? {
        guard let child else { return parent }
        guard let parent else { return child }
        var result: [T] = []
        for entry in parent {
            if let override = child.first(where: { $0[keyPath: key] == entry[keyPath: key] }) {
                result.append(combine(override, entry))
            } else {
                result.append(entry)
            }
        }
        for entry in child where !parent.contains(where: { $0[keyPath: key] == entry[keyPath: key] }) {
            result.append(entry)
        }
        return result
    }
}

extension BrandGuide.AltTextStyle {
    static func inheriting(_ child: Self, _ parent: Self) -> Self {
        var style = child
        style.tone = child.tone ?? parent.tone
        style.maxLength = child.maxLength ?? parent.maxLength
        style.caption = child.caption ?? parent.caption
        style.language = child.language ?? parent.language
        return style
    }
}
