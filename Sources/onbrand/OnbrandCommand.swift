import ArgumentParser

/// The `onbrand` command line: thin parsing over the Onbrand libraries.
@main
struct OnbrandCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onbrand",
        abstract: "On-brand product images with alt text, from a brand guide, a catalog and prompt templates.",
        version: "0.1.0",
        subcommands: [Run.self, Validate.self, Inspect.self, InspectImage.self, Review.self, Plan.self, Tokens.self, Emulator.self]
    )
}
