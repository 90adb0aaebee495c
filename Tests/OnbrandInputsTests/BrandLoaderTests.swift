import Foundation
import OnbrandInputs
import OnbrandTestSupport
import Testing

@Suite struct BrandLoaderTests {
    static let parentXML = """
        <?xml version="1.0" encoding="UTF-8"?>
        <brand id="acme" version="2">
          <name>Acme Outdoor</name>
          <tagline>Built for the long way round.</tagline>
          <voice>
            <adjective>warm</adjective>
            <do>Name the material.</do>
            <banned-word>cheap</banned-word>
          </voice>
          <palette>
            <color name="Forest" hex="#1f4d3a" role="primary" usage="60"/>
            <color name="Sand" hex="#DDD" role="neutral"/>
          </palette>
          <imagery><lighting>Soft daylight</lighting><background>Granite</background></imagery>
          <alt-text tone="plain" max-length="120" language="en-US"/>
          <channels>
            <channel id="ecommerce"><background>Plain white (#FFFFFF)</background></channel>
          </channels>
          <locales>
            <locale code="en-US"/>
            <locale code="de-DE" name="Deutsch"><note>Sie, not du.</note><banned-word>billig</banned-word></locale>
          </locales>
        </brand>
        """

    @Test func readsXMLBrandGuide() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write(Self.parentXML, to: "acme/brand.xml", in: directory)
            let result = BrandLoader.load(directory.appendingPathComponent("acme").path)
            let brand = try #require(result.guide, "\(result.diagnostics)")
            #expect(brand.id == "acme" && brand.name == "Acme Outdoor")
            #expect(brand.colors.map(\.hex) == ["#1F4D3A", "#DDDDDD"])
            #expect(brand.colors[0].usage == 60)
            #expect(brand.voice?.bannedWords == ["cheap"])
            #expect(brand.channel("ecommerce")?.background == "Plain white (#FFFFFF)")
            #expect(brand.locale("de-de")?.bannedWords == ["billig"])
            #expect(brand.localeCodes == ["en-US", "de-DE"])
            #expect(brand.altText?.maxLength == 120)
        }
    }

    @Test func subBrandOverridesFieldByField() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write(Self.parentXML, to: "acme/brand.xml", in: directory)
            let child = """
                {"id": "acme-kids", "extends": "../acme", "name": "Acme Kids",
                 "voice": {"adjectives": ["playful"]},
                 "palette": {"colors": [{"name": "Sunny", "hex": "#FFC400", "role": "accent"}]},
                 "imagery": {"lighting": "Bright morning light"},
                 "locales": [{"code": "de-DE", "notes": ["Du, not Sie."]}]}
                """
            try TestFiles.write(child, to: "acme-kids/brand.json", in: directory)
            let result = BrandLoader.load(directory.appendingPathComponent("acme-kids").path)
            let brand = try #require(result.guide, "\(result.diagnostics)")
            #expect(brand.name == "Acme Kids")
            #expect(brand.tagline == "Built for the long way round.", "unset fields are inherited")
            #expect(brand.voice?.adjectives == ["playful"])
            #expect(brand.voice?.bannedWords == ["cheap"], "sibling fields in a group are inherited")
            #expect(brand.colors.map(\.name) == ["Forest", "Sand", "Sunny"])
            #expect(brand.imagery?.lighting == "Bright morning light")
            #expect(brand.imagery?.background == "Granite")
            #expect(brand.locale("de-DE")?.notes == ["Du, not Sie."])
            #expect(brand.locale("de-DE")?.bannedWords == ["billig"])
            #expect(brand.locale("de-DE")?.name == "Deutsch")
            #expect(brand.altText?.maxLength == 120)
        }
    }

    @Test func inheritanceCycleIsAnError() throws {
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write("<brand id=\"a\" extends=\"../b\"><name>A</name></brand>", to: "a/brand.xml", in: directory)
            try TestFiles.write("<brand id=\"b\" extends=\"../a\"><name>B</name></brand>", to: "b/brand.xml", in: directory)
            let result = BrandLoader.load(directory.appendingPathComponent("a").path)
            #expect(result.guide == nil)
            #expect(result.diagnostics.contains { $0.message.contains("cycle") })
        }
    }

    @Test func badValuesAreLocatedInXML() throws {
        let xml = """
            <?xml version="1.0" encoding="UTF-8"?>
            <brand id="acme">
              <palette>
                <color name="Forest" hex="#12345"/>
              </palette>
              <voice><tone>warm</tone></voice>
              <alt-text max-length="lots"/>
            </brand>
            """
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(xml, to: "brand.xml", in: directory)
            let result = BrandLoader.load(path)
            #expect(result.guide == nil)
            let rendered = result.diagnostics.map(\.description)
            #expect(rendered.contains { $0.hasPrefix("\(path):4:5: error: colour \"Forest\" has hex \"#12345\"") }, "\(rendered)")
            #expect(rendered.contains { $0.hasPrefix("\(path):6:10: warning: unknown element <tone> in <voice>") }, "\(rendered)")
            #expect(rendered.contains { $0.hasPrefix("\(path):7:3: error: max-length \"lots\"") }, "\(rendered)")
            #expect(rendered.contains { $0.contains("error: the brand has no name") }, "\(rendered)")
        }
    }

    @Test func wrongTypesAreLocatedInJSON() throws {
        let json = """
            {
              "name": "Acme",
              "voice": {"adjectives": "warm", "bannedWords": [1, "cheap"]},
              "altText": {"maxLength": "125"},
              "pallete": {}
            }
            """
        try TestFiles.withTemporaryDirectory { directory in
            let path = try TestFiles.write(json, to: "brand.json", in: directory)
            let result = BrandLoader.load(path)
            let rendered = result.diagnostics.map(\.description)
            #expect(rendered.contains { $0.hasPrefix("\(path):3:51: error: at `voice.bannedWords[0]`: expected a string, found a number") }, "\(rendered)")
            #expect(rendered.contains { $0.hasPrefix("\(path):4:28: error: at `altText.maxLength`: expected a whole number, found a string") }, "\(rendered)")
            #expect(rendered.contains { $0.contains("5:14: warning: at `pallete`: unknown key \"pallete\"") && $0.contains("did you mean \"palette\"") }, "\(rendered)")
            #expect(result.guide == nil)
        }
    }

    @Test func paletteFromDesignTokens() throws {
        let tokens = """
            {"color": {"$type": "color",
              "brand": {
                "forest": {"$value": {"colorSpace": "srgb", "components": [0.122, 0.302, 0.227], "alpha": 1, "hex": "#1f4d3a"}},
                "mist": {"$value": {"colorSpace": "srgb", "components": [1, 1, 1], "alpha": 0.5}},
                "primary": {"$value": "{color.brand.forest}"}
              },
              "other": {"x": {"$value": "#000000"}}}}
            """
        let brand = """
            <brand id="t"><name>T</name>
              <palette tokens="tokens.json" token-prefix="color.brand"><color name="Main" token="primary" role="primary"/></palette>
            </brand>
            """
        let importing = "<brand id=\"t\"><name>T</name><palette tokens=\"tokens.json\" token-prefix=\"color.brand\"/></brand>"
        try TestFiles.withTemporaryDirectory { directory in
            try TestFiles.write(tokens, to: "tokens.json", in: directory)
            let named = try BrandLoader.loadOrThrow(try TestFiles.write(brand, to: "named.xml", in: directory))
            #expect(named.colors == [BrandGuide.BrandColor(name: "Main", hex: "#1F4D3A", role: "primary", token: "primary")])
            let imported = try BrandLoader.loadOrThrow(try TestFiles.write(importing, to: "imported.xml", in: directory))
            #expect(imported.colors.map(\.name) == ["forest", "mist", "primary"])
            #expect(imported.colors.map(\.hex) == ["#1F4D3A", "#FFFFFF80", "#1F4D3A"])
        }
    }

    @Test func realDesignTokenFiles() throws {
        let files = TestFiles.sharedFiles("data/design-tokens", extensions: ["json"])
        guard !files.isEmpty else {
            print("skipping: ../shared is absent, so the real design tokens are not available")
            return
        }
        var colorsByFile: [String: [DesignTokens.ColorToken]] = [:]
        for file in files {
            let (tokens, _) = try DesignTokens.load(contentsOf: file.path)
            colorsByFile[file.lastPathComponent] = tokens.colors
        }
        let polaris = try #require(colorsByFile["dtcg_shopify-polaris_colors.tokens.json"])
        #expect(polaris.count == 58, "$type on the group is inherited by its 58 tokens")
        #expect(polaris.contains { $0.hex == "#006FBB" })
        let primer = try #require(colorsByFile["dtcg_github-primer_light.tokens.json"])
        #expect(primer.count >= 98)
        #expect(primer.allSatisfy { HexColor.normalized($0.hex) != nil })
        let classic = try #require(colorsByFile["style-dictionary_classic_color-base.json"])
        #expect(classic.contains { $0.hex == "#DDDDDD" }, "3-digit hex expands")
        #expect(Set(classic.map(\.path)).count == classic.count)
        #expect(classic.contains { $0.path.hasSuffix(".light") } && classic.contains { $0.path.hasSuffix(".Light") })
        #expect(!(colorsByFile["style-dictionary_v4_colors.json"] ?? []).isEmpty)
        #expect(colorsByFile["dtcg_ibm-carbon_typography.tokens.json"]?.isEmpty == true, "typography files hold no colours")
    }

    @Test func bundledExampleBrandsLoadCleanly() throws {
        let brands = TestFiles.packageRoot.appendingPathComponent("brands")
        let names = try FileManager.default.contentsOfDirectory(atPath: brands.path).filter {
            FileManager.default.fileExists(atPath: brands.appendingPathComponent($0).appendingPathComponent("brand.xml").path)
                || FileManager.default.fileExists(atPath: brands.appendingPathComponent($0).appendingPathComponent("brand.json").path)
        }
        #expect(names.count >= 3)
        for name in names {
            let report = InputValidator().validate(brandPath: brands.appendingPathComponent(name).path, catalog: nil, templates: [])
            let errors = report.diagnostics.filter { $0.severity == .error }
            #expect(errors.isEmpty, "\(name): \(errors)")
            #expect(report.catalog?.products ?? 0 >= 5, "\(name) has a default catalog")
            #expect(!report.templates.isEmpty, "\(name) has default templates")
        }
    }
}
