//! Host-side unit tests; the wasm-only exports in root.zig are left out.
const std = @import("std");
const blake3 = @import("blake3.zig");

test {
    _ = @import("tar.zig");
    _ = @import("tree.zig");
}

test "blake3 of 'abc' and of 1 MiB + 1 streamed in odd pieces matches one-shot" {
    var out: [32]u8 = undefined;
    blake3.hash("abc", &out);
    var hex: [64]u8 = undefined;
    _ = std.fmt.bufPrint(&hex, "{x}", .{out}) catch unreachable;
    try std.testing.expectEqualStrings("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85", &hex);

    const n = (1 << 20) + 1;
    const buf = try std.testing.allocator.alloc(u8, n);
    defer std.testing.allocator.free(buf);
    for (buf, 0..) |*b, i| b.* = @truncate(i % 251);
    var one: [32]u8 = undefined;
    blake3.hash(buf, &one);
    var h = blake3.Hasher.init();
    var off: usize = 0;
    var step: usize = 1;
    while (off < n) : (step = (step * 31 + 7) % 9001) {
        const take = @min(step + 1, n - off);
        h.update(buf[off..][0..take]);
        off += take;
    }
    var streamed: [32]u8 = undefined;
    h.finalize(&streamed);
    try std.testing.expectEqualSlices(u8, &one, &streamed);
}

test "subtree chaining values pushed in order equal a plain hash" {
    const unit = 16 * blake3.CHUNK_LEN;
    const n = 5 * unit + 777;
    const buf = try std.testing.allocator.alloc(u8, n);
    defer std.testing.allocator.free(buf);
    for (buf, 0..) |*b, i| b.* = @truncate(i *% 31 +% 7);
    var expected: [32]u8 = undefined;
    blake3.hash(buf, &expected);

    var h = blake3.Hasher.init();
    var off: usize = 0;
    while (off + unit < n) : (off += unit) {
        const cv = blake3.subtreeCv(buf[off..][0..unit], off / blake3.CHUNK_LEN).?;
        try std.testing.expect(h.pushSubtree(cv, unit / blake3.CHUNK_LEN));
    }
    h.update(buf[off..]);
    var got: [32]u8 = undefined;
    h.finalize(&got);
    try std.testing.expectEqualSlices(u8, &expected, &got);
}
