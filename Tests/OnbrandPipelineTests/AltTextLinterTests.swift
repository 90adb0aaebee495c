import Foundation
import OnbrandInputs
import OnbrandPipeline
import OnbrandTestSupport
import Testing

@Suite struct AltTextLinterTests {
    static let brand = try! BrandLoader.loadOrThrow(TestFiles.packageRoot.appendingPathComponent("brands/northwind").path)

    static var jacket: Product {
        var product = Product(id: "NW-TJ-FO-M")
        product.title = "Ridgeline Trail Jacket – Forest, M"
        product.color = "Forest"
        product.productType = "Outdoor > Jackets"
        product.gtin = "0735000001234"
        return product
    }

    static func rules(_ text: String, _ locale: String, product: Product = jacket) -> Set<AltTextLinter.Finding.Rule> {
        Set(AltTextLinter(brand: brand).lint(text, product: product, locale: locale).filter(\.isError).map(\.rule))
    }

    @Test(arguments: [
        ("Ridgeline trail jacket in forest green on a plain white background", "en-US"),
        ("Ridgeline Trail Jacket in Forest-Grün auf weißem Hintergrund", "de-DE"),
        ("白い背景に置かれたフォレストグリーンのリッジライン・トレイル・ジャケット", "ja-JP"),
    ])
    func goodAltTextPasses(text: String, locale: String) {
        var product = Self.jacket
        if locale == "ja-JP" { product.title = "リッジライン・トレイル・ジャケット" }
        #expect(Self.rules(text, locale, product: product).isEmpty, "\(AltTextLinter(brand: Self.brand).lint(text, product: product, locale: locale))")
    }

    @Test(arguments: [
        ("Image of the Ridgeline trail jacket in forest green", "en-US"),
        ("Bild von der Ridgeline Trail Jacket in Grün auf Weiß", "de-DE"),
        ("リッジライン・トレイル・ジャケットの画像", "ja-JP"),
    ])
    func redundantOpeningsAreFlaggedInEachLanguage(text: String, locale: String) {
        var product = Self.jacket
        if locale == "ja-JP" { product.title = "リッジライン・トレイル・ジャケット" }
        #expect(Self.rules(text, locale, product: product).contains(.redundantOpening))
    }

    @Test func lengthFollowsTheLocale() {
        let long = "Ridgeline trail jacket " + String(repeating: "with more detail ", count: 6) + "ok"  // 127 characters
        #expect(Self.rules(long, "en-US").contains(.tooLong), "125 for en-US")
        #expect(!Self.rules(long, "de-DE").contains(.tooLong), "de-DE allows 140")
        #expect(Self.rules("", "en-US") == [.empty])
    }

    @Test func codesURLsAndFileNamesAreFlagged() {
        #expect(Self.rules("Ridgeline trail jacket NW-TJ-FO-M in forest", "en-US").contains(.sku))
        #expect(Self.rules("Ridgeline trail jacket, see https://northwind.example.com", "en-US").contains(.fileNameOrURL))
        #expect(Self.rules("Ridgeline trail jacket nw-tj-fo-m.png", "en-US").contains(.fileNameOrURL))
    }

    @Test func bannedWordsOfTheBrandAndTheLocale() {
        #expect(Self.rules("Cheap Ridgeline trail jacket in forest", "en-US").contains(.bannedWord))
        #expect(Self.rules("Billig: Ridgeline Trail Jacket in Grün", "de-DE").contains(.bannedWord))
        #expect(Self.rules("最強のリッジライン・トレイル・ジャケット", "ja-JP", product: { var p = Self.jacket; p.title = "リッジライン・トレイル・ジャケット"; return p }()).contains(.bannedWord))
    }

    @Test func productAndLanguageMustBeRight() {
        #expect(Self.rules("A person walking in the mountains at dawn", "en-US").contains(.missingProduct))
        #expect(Self.rules("The Ridgeline trail jacket with the hood up in the rain and the wind", "de-DE").contains(.wrongLanguage))
        #expect(Self.rules("Ridgeline trail jacket in forest green", "ja-JP").contains(.wrongLanguage))
        let warnings = AltTextLinter(brand: Self.brand).lint("Ridgeline trail jacket on white", product: Self.jacket, locale: "en-US")
        #expect(warnings.contains { $0.rule == .missingColor && !$0.isError })
    }

    @Test func galleryDuplicates() {
        #expect(AltTextLinter.duplicates(in: ["Jacket on white", "Jacket outdoors", "jacket on white "]) == ["jacket on white"])
    }
}
