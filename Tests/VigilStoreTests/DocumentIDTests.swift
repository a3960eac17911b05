import Testing
@testable import VigilStore

@Suite struct DocumentIDTests {
    @Test func twentyURLSafeCharactersAndNoRepeats() {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = DocumentID.generate()
            #expect(id.utf8.count == 20)
            #expect(id.utf8.allSatisfy { allowed.contains($0) })
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }
}
