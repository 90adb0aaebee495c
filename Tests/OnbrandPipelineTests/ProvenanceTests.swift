import Foundation
@testable import GeminiEmulator
import OnbrandImage
import OnbrandInputs
@testable import OnbrandPipeline
import OnbrandTestSupport
import Testing

/// An image that arrives with a C2PA manifest keeps every byte (the manifest's hash covers them);
/// its XMP goes into a `.xmp` file beside it. Others get the XMP inside.
@Suite struct ProvenanceTests {
    @Test func c2paImagesKeepTheirBytes() throws {
        let brand = try BrandLoader.loadOrThrow(TestFiles.packageRoot.appendingPathComponent("brands/northwind").path)
        let template = try TemplateLoader.loadOrThrow(TestFiles.packageRoot.appendingPathComponent("templates/catalog-packshot.xml").path)
        let product = try CatalogReader(contentsOf: TestFiles.packageRoot.appendingPathComponent("brands/northwind/catalog.xml").path).readAll()[0]
        let unit = WorkUnit(productID: product.id, templateID: template.id, locale: "en-US")
        let plain = PNGEncoder.bands(width: 16, height: 16, colors: [PNGEncoder.Color(hex: "#2E5140")!])
        let ihdrEnd = 8 + 12 + 13
        let signed = plain.prefix(ihdrEnd) + Data([0, 0, 0, 4]) + Data("caBXjumb".utf8) + Data([1, 2, 3, 4]) + plain.dropFirst(ihdrEnd)

        var image = plain
        let (_, embedded, sidecar) = Runner.verifyAndTag(
            &image, name: "a.png", alt: "A jacket", caption: nil, unit: unit, template: template, product: product, brand: brand, profile: nil)
        #expect(embedded.written && sidecar == nil && image != plain)
        #expect(try ImageContainer.info(of: image).xmp != nil)

        var signedImage = signed
        let (_, signedEmbedded, signedSidecar) = Runner.verifyAndTag(
            &signedImage, name: "a.png", alt: "A jacket", caption: nil, unit: unit, template: template, product: product, brand: brand, profile: nil)
        #expect(signedImage == signed, "not one byte changed")
        #expect(!signedEmbedded.written && signedEmbedded.problem?.contains("C2PA") == true)
        #expect(try XMPPacket.parse(try #require(signedSidecar)).altText.first?.text == "A jacket")
    }
}
