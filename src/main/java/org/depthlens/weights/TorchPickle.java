package org.depthlens.weights;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A pickle reader that can never run code: a pure data interpreter for the opcodes torch.save
 * writes (protocol 2 by default, 3-5 when asked), which builds strings, numbers, tuples, lists and
 * dicts and knows exactly the globals a saved state dict refers to: {@code collections.OrderedDict},
 * torch's tensor and parameter rebuild functions and the {@code torch.*Storage} types. Any other
 * global ({@code posix.system}, {@code builtins.eval}, a model class, ...) stops the reading the
 * moment it is named, before anything is built from it; nothing is ever looked up or called.
 *
 * <p>Storages are persistent ids ({@code ('storage', torch.FloatStorage, key, location, numel)}),
 * returned as {@link Storage} records; tensors as {@link Tensor} records. The result of
 * {@link #stateDict} is the dict of name to tensor. Work and memory are linear in the pickle's
 * length: every opcode consumes at least one byte and creates at most one object.
 */
final class TorchPickle {
    /** A storage the pickle refers to: zip entry {@code data/<key>}, its element type and element count. */
    record Storage(String key, DType dtype, long numel) {}

    /** A tensor view of a storage: element offset, shape and strides in elements. */
    record Tensor(Storage storage, long offset, long[] shape, long[] stride) {}

    /** The allowed callables and classes, by "module.name". */
    private enum Global {
        ORDERED_DICT, REBUILD_TENSOR_V2, REBUILD_TENSOR, REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE, STORAGE_TYPE
    }

    private record GlobalRef(Global kind, String name, DType dtype) {}

    private record Tuple(Object[] items) {}

    private static final Object NONE = new Object() {
        @Override
        public String toString() {
            return "None";
        }
    };
    private static final Object MARK = new Object();
    private static final int MAX_RANK = SafetensorsFile.MAX_RANK;

    private static final Map<String, DType> STORAGES = Map.ofEntries(
            Map.entry("FloatStorage", DType.F32), Map.entry("HalfStorage", DType.F16), Map.entry("BFloat16Storage", DType.BF16),
            Map.entry("DoubleStorage", DType.F64), Map.entry("LongStorage", DType.I64), Map.entry("IntStorage", DType.I32),
            Map.entry("ShortStorage", DType.I16), Map.entry("CharStorage", DType.I8), Map.entry("ByteStorage", DType.U8),
            Map.entry("BoolStorage", DType.BOOL), Map.entry("Float8_e4m3fnStorage", DType.F8_E4M3),
            Map.entry("Float8_e5m2Storage", DType.F8_E5M2));

    private final String where;
    private final byte[] b;
    private int pos;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private final Map<String, Storage> storages = new LinkedHashMap<>();

    private TorchPickle(String where, byte[] bytes) {
        this.where = where;
        this.b = bytes;
    }

    /**
     * The state dict in {@code pickle}: tensor name to tensor, in the pickle's order. {@code where}
     * starts every error message (the file and the pickle's entry name).
     */
    static Map<String, Tensor> stateDict(String where, byte[] pickle) {
        TorchPickle p = new TorchPickle(where, pickle);
        Object top = p.run();
        if (!(top instanceof Dict d)) throw p.error("holds " + describe(top) + ", not a state dict of tensors");
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<Object, Object> e : d.map.entrySet()) {
            if (!(e.getKey() instanceof String name)) throw p.error("holds a key " + describe(e.getKey()) + ", not a tensor name");
            if (!(e.getValue() instanceof Tensor t)) {
                throw p.error("entry " + Msg.q(name) + " is " + describe(e.getValue())
                        + ", not a tensor (a training checkpoint? save the model's state_dict() alone)");
            }
            out.put(name, t);
        }
        return out;
    }

    /** A dict (plain or OrderedDict); keys are strings or integers only, so no key hashing can blow up. */
    private static final class Dict {
        final Map<Object, Object> map = new LinkedHashMap<>();
    }

    private static final class PyList {
        final List<Object> items = new ArrayList<>();
    }

    private SafetensorsException error(String msg) {
        return new SafetensorsException(where + " " + msg);
    }

    private SafetensorsException bad(String msg) {
        return new SafetensorsException(where + ": " + msg + " (pickle byte " + pos + ")");
    }

    private Object run() {
        while (true) {
            if (pos >= b.length) throw bad("pickle ends without STOP; truncated?");
            int at = pos;
            int op = b[pos++] & 0xFF;
            switch (op) {
                case 0x80 -> { // PROTO
                    int v = u1();
                    if (v < 2 || v > 5) throw bad("pickle protocol " + v + " (torch.save writes 2 to 5)");
                }
                case 0x95 -> skip(8); // FRAME: a length hint only
                case '.' -> { // STOP
                    Object v = pop();
                    if (!stack.isEmpty() || !marks.isEmpty()) throw bad("pickle stops with " + stack.size() + " values left on its stack");
                    return v;
                }
                case '(' -> marks.add(stack.size());
                case '0' -> pop();
                case '1' -> popMark();
                case '2' -> push(peek());
                case 'N' -> push(NONE);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) i4());
                case 'K' -> push((long) u1());
                case 'M' -> push((long) u2());
                case 0x8a -> push(longN(u1()));
                case 0x8b -> push(longN(len4()));
                case 'G' -> {
                    long bits = 0;
                    for (int i = 0; i < 8; i++) bits = (bits << 8) | u1();
                    push(Double.longBitsToDouble(bits));
                }
                case 'X' -> push(utf8(len4()));
                case 0x8c -> push(utf8(u1()));
                case 0x8d -> push(utf8(len8()));
                case 'U' -> push(latin1(u1())); // python 2 str
                case 'T' -> push(latin1(len4()));
                case 'C' -> push(bytes(u1()));
                case 'B' -> push(bytes(len4()));
                case 0x8e -> push(bytes(len8()));
                case ')' -> push(new Tuple(new Object[0]));
                case 't' -> push(new Tuple(popMark().toArray()));
                case 0x85 -> push(new Tuple(new Object[] {pop()}));
                case 0x86 -> {
                    Object y = pop();
                    Object x = pop();
                    push(new Tuple(new Object[] {x, y}));
                }
                case 0x87 -> {
                    Object z = pop();
                    Object y = pop();
                    Object x = pop();
                    push(new Tuple(new Object[] {x, y, z}));
                }
                case ']' -> push(new PyList());
                case 'l' -> {
                    PyList l = new PyList();
                    l.items.addAll(popMark());
                    push(l);
                }
                case 'a' -> {
                    Object v = pop();
                    list(peek()).items.add(v);
                }
                case 'e' -> {
                    List<Object> vs = popMark();
                    list(peek()).items.addAll(vs);
                }
                case '}' -> push(new Dict());
                case 'd' -> {
                    List<Object> kv = popMark();
                    Dict d = new Dict();
                    putAll(d, kv);
                    push(d);
                }
                case 's' -> {
                    Object v = pop();
                    Object k = pop();
                    putAll(dict(peek()), List.of(k, v));
                }
                case 'u' -> {
                    List<Object> kv = popMark();
                    putAll(dict(peek()), kv);
                }
                case 'q' -> memo.put((long) u1(), peek());
                case 'r' -> memo.put(len4(), peek());
                case 0x94 -> memo.put((long) memo.size(), peek());
                case 'h' -> push(get(u1()));
                case 'j' -> push(get(len4()));
                case 'c' -> push(global(line(), line()));
                case 0x93 -> {
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) throw bad("STACK_GLOBAL of non-strings");
                    push(global(m, n));
                }
                case 'R' -> {
                    Object args = pop();
                    Object fn = pop();
                    push(reduce(fn, args));
                }
                case 'b' -> {
                    Object state = pop();
                    Object obj = peek();
                    // an OrderedDict state dict carries its _metadata (module versions) as instance state
                    if (!(obj instanceof Dict) || !(state instanceof Dict || state == NONE)) {
                        throw bad("sets the state of " + describe(obj) + " to " + describe(state) + ", which a state dict never does");
                    }
                }
                case 'Q' -> push(persistent(pop()));
                default -> {
                    pos = at;
                    throw bad(String.format("pickle opcode 0x%02x is not one torch.save writes for a state dict", op));
                }
            }
        }
    }

    private GlobalRef global(String module, String name) {
        String full = module + "." + name;
        Global kind = switch (full) {
            case "collections.OrderedDict" -> Global.ORDERED_DICT;
            case "torch._utils._rebuild_tensor_v2" -> Global.REBUILD_TENSOR_V2;
            case "torch._utils._rebuild_tensor" -> Global.REBUILD_TENSOR;
            case "torch._utils._rebuild_parameter" -> Global.REBUILD_PARAMETER;
            case "torch._utils._rebuild_parameter_with_state" -> Global.REBUILD_PARAMETER_WITH_STATE;
            default -> module.equals("torch") && STORAGES.containsKey(name) ? Global.STORAGE_TYPE : null;
        };
        if (kind == null && module.equals("torch") && name.endsWith("Storage")) {
            throw error("holds storage type " + Msg.q(full) + ", which depthlens does not read (float32, float16, bfloat16,"
                    + " float64, float8, integer and bool storages are read)");
        }
        if (kind == null) {
            throw error("refers to the Python global " + Msg.q(full) + ", which a PyTorch state dict never holds; refused"
                    + " before anything was built or run (only OrderedDict, torch tensors and storages are read)");
        }
        return new GlobalRef(kind, full, kind == Global.STORAGE_TYPE ? STORAGES.get(name) : null);
    }

    private Object reduce(Object fn, Object args) {
        if (!(fn instanceof GlobalRef g) || g.kind == Global.STORAGE_TYPE) throw bad("calls " + describe(fn) + ", which is not callable here");
        if (!(args instanceof Tuple t)) throw bad("calls " + g.name + " with " + describe(args) + " instead of an argument tuple");
        Object[] a = t.items;
        switch (g.kind) {
            case ORDERED_DICT -> {
                if (a.length != 0) throw bad("calls collections.OrderedDict with arguments");
                return new Dict();
            }
            case REBUILD_TENSOR, REBUILD_TENSOR_V2 -> {
                int min = g.kind == Global.REBUILD_TENSOR ? 4 : 6;
                int max = g.kind == Global.REBUILD_TENSOR ? 4 : 7;
                if (a.length < min || a.length > max) throw bad(g.name + " with " + a.length + " arguments");
                if (!(a[0] instanceof Storage s)) throw bad(g.name + " on " + describe(a[0]) + ", not a storage");
                if (a.length == 7 && !(a[6] instanceof Dict md && md.map.isEmpty()) && a[6] != NONE) {
                    throw bad(g.name + " with tensor metadata, which plain state-dict tensors do not carry");
                }
                long offset = nonNegative(a[1], "storage offset");
                long[] shape = longs(a[2], "size");
                long[] stride = longs(a[3], "stride");
                if (shape.length != stride.length) {
                    throw bad("tensor of " + shape.length + " dimensions with " + stride.length + " strides");
                }
                return new Tensor(s, offset, shape, stride);
            }
            case REBUILD_PARAMETER, REBUILD_PARAMETER_WITH_STATE -> {
                int n = g.kind == Global.REBUILD_PARAMETER ? 3 : 4;
                if (a.length != n || !(a[0] instanceof Tensor tensor)) throw bad(g.name + " on " + (a.length > 0 ? describe(a[0]) : "nothing"));
                if (n == 4 && !(a[3] == NONE || a[3] instanceof Dict st && st.map.isEmpty())) {
                    throw bad(g.name + " with Python state, which plain parameters do not carry");
                }
                return tensor;
            }
            default -> throw new IllegalStateException(g.kind.toString());
        }
    }

    /** {@code ('storage', torch.XStorage, key, location, numel)}; the same key always means the same storage. */
    private Storage persistent(Object pid) {
        if (!(pid instanceof Tuple t) || t.items.length != 5 || !"storage".equals(t.items[0])) {
            throw bad("persistent id " + describe(pid) + " is not ('storage', type, key, location, size)");
        }
        Object[] a = t.items;
        if (!(a[1] instanceof GlobalRef g) || g.kind != Global.STORAGE_TYPE) throw bad("storage type " + describe(a[1]));
        if (!(a[2] instanceof String key)) throw bad("storage key " + describe(a[2]) + " is not a string");
        if (!(a[3] instanceof String)) throw bad("storage location " + describe(a[3]) + " is not a string");
        long numel = nonNegative(a[4], "storage size");
        Storage s = new Storage(key, g.dtype, numel);
        Storage prev = storages.putIfAbsent(key, s);
        if (prev != null && !prev.equals(s)) {
            throw bad("storage " + Msg.q(key) + " is used as " + prev.dtype() + " x " + prev.numel() + " and as " + s.dtype() + " x " + s.numel());
        }
        return prev != null ? prev : s;
    }

    private long nonNegative(Object v, String what) {
        if (!(v instanceof Long l) || l < 0) throw bad(what + " " + describe(v) + " is not a non-negative integer");
        return l;
    }

    private long[] longs(Object v, String what) {
        if (!(v instanceof Tuple t)) throw bad("tensor " + what + " " + describe(v) + " is not a tuple");
        if (t.items.length > MAX_RANK) throw bad("tensor " + what + " has " + t.items.length + " dimensions");
        long[] out = new long[t.items.length];
        for (int i = 0; i < out.length; i++) out[i] = nonNegative(t.items[i], "tensor " + what + " value");
        return out;
    }

    private void putAll(Dict d, List<Object> kv) {
        if (kv.size() % 2 != 0) throw bad("dict items with an odd number of values");
        for (int i = 0; i < kv.size(); i += 2) {
            Object k = kv.get(i);
            if (!(k instanceof String) && !(k instanceof Long)) throw bad("dict key " + describe(k) + " (only strings and integers are read)");
            d.map.put(k, kv.get(i + 1));
        }
    }

    private Dict dict(Object o) {
        if (o instanceof Dict d) return d;
        throw bad("sets an item of " + describe(o) + ", not a dict");
    }

    private PyList list(Object o) {
        if (o instanceof PyList l) return l;
        throw bad("appends to " + describe(o) + ", not a list");
    }

    private Object get(long key) {
        Object v = memo.get(key);
        if (v == null) throw bad("memo " + key + " read before it was written");
        return v;
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object pop() {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) throw bad("pickle pops from an empty stack");
        return stack.remove(stack.size() - 1);
    }

    private Object peek() {
        int floor = marks.isEmpty() ? 0 : marks.get(marks.size() - 1);
        if (stack.size() <= floor) throw bad("pickle reads from an empty stack");
        return stack.get(stack.size() - 1);
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) throw bad("pickle closes a MARK it never opened");
        int m = marks.remove(marks.size() - 1);
        List<Object> top = stack.subList(m, stack.size());
        List<Object> out = new ArrayList<>(top);
        top.clear();
        return out;
    }

    private int u1() {
        need(1);
        return b[pos++] & 0xFF;
    }

    private int u2() {
        need(2);
        int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8;
        pos += 2;
        return v;
    }

    private int i4() {
        need(4);
        int v = (b[pos] & 0xFF) | (b[pos + 1] & 0xFF) << 8 | (b[pos + 2] & 0xFF) << 16 | (b[pos + 3] & 0xFF) << 24;
        pos += 4;
        return v;
    }

    private long len4() {
        return i4() & 0xFFFFFFFFL;
    }

    private long len8() {
        need(8);
        long v = 0;
        for (int i = 7; i >= 0; i--) v = (v << 8) | (b[pos + i] & 0xFF);
        pos += 8;
        if (v < 0) throw bad("length " + Long.toUnsignedString(v) + " out of range");
        return v;
    }

    private void skip(long n) {
        need(n);
        pos += (int) n;
    }

    private void need(long n) {
        if (n > b.length - pos) throw bad("pickle ends inside an opcode's argument (" + n + " bytes needed); truncated?");
    }

    /** A little-endian two's-complement integer of {@code n} bytes; more than 8 cannot be a size or offset. */
    private long longN(long n) {
        if (n > 8) throw bad("integer of " + n + " bytes, larger than any size or offset");
        need(n);
        long v = 0;
        for (int i = (int) n - 1; i >= 0; i--) v = (v << 8) | (b[pos + i] & 0xFF);
        if (n > 0 && n < 8 && (b[pos + (int) n - 1] & 0x80) != 0) v -= 1L << (8 * n); // sign-extend
        pos += (int) n;
        return v;
    }

    private String utf8(long n) {
        need(n);
        try {
            String s = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b, pos, (int) n)).toString();
            pos += (int) n;
            return s;
        } catch (CharacterCodingException e) {
            throw bad("string is not valid UTF-8");
        }
    }

    private String latin1(long n) {
        need(n);
        String s = new String(b, pos, (int) n, StandardCharsets.ISO_8859_1);
        pos += (int) n;
        return s;
    }

    private byte[] bytes(long n) {
        need(n);
        byte[] out = java.util.Arrays.copyOfRange(b, pos, pos + (int) n);
        pos += (int) n;
        return out;
    }

    /** A GLOBAL argument: printable ASCII up to a newline, at most 256 bytes. */
    private String line() {
        int start = pos;
        while (pos < b.length && b[pos] != '\n') {
            int c = b[pos] & 0xFF;
            if (c < 0x20 || c > 0x7E || pos - start >= 256) throw bad("GLOBAL name is not a short printable line");
            pos++;
        }
        if (pos >= b.length) throw bad("pickle ends inside a GLOBAL name; truncated?");
        String s = new String(b, start, pos - start, StandardCharsets.US_ASCII);
        pos++;
        return s;
    }

    /** What a value is, for messages; never prints nested contents (which could be huge or shared). */
    private static String describe(Object o) {
        if (o == null) return "nothing";
        if (o == NONE) return "None";
        if (o instanceof String s) return "the string " + Msg.q(s);
        if (o instanceof Long l) return "the integer " + l;
        if (o instanceof Boolean v) return v ? "True" : "False";
        if (o instanceof Double) return "a float";
        if (o instanceof byte[]) return "bytes";
        if (o instanceof Tuple t) return "a tuple of " + t.items.length;
        if (o instanceof PyList l) return "a list of " + l.items.size();
        if (o instanceof Dict d) return "a dict of " + d.map.size();
        if (o instanceof GlobalRef g) return g.name;
        if (o instanceof Storage) return "a storage";
        if (o instanceof Tensor) return "a tensor";
        return o.getClass().getSimpleName();
    }
}
