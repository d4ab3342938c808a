import Foundation
@testable import MLShPackage
import Testing

/// The tar writer: ustar headers GNU tar reads back, sorted entries, long paths.
@Suite struct TarArchiveTests {
    @Test func splitsLongPathsAtASlash() {
        #expect(TarArchive.split("a/b")! == ("", "a/b"))
        let long = String(repeating: "d", count: 120) + "/" + String(repeating: "f", count: 90)
        let (prefix, name) = TarArchive.split(long)!
        #expect(prefix.count == 120 && name.count == 90)
        #expect(TarArchive.split(String(repeating: "x", count: 101)) == nil)
    }

    @Test func paxRecordLengthCountsItself() {
        let r = String(decoding: TarArchive.paxRecord("path", String(repeating: "p", count: 95)), as: UTF8.self)
        #expect(r.hasPrefix("\(r.utf8.count) path="))
        #expect(r.hasSuffix("\n"))
    }
}
