package org.depthlens.weights;

import java.io.IOException;
import java.lang.ref.Reference;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One PyTorch checkpoint file as torch.save writes it since torch 1.6: a zip archive, entries
 * stored uncompressed, holding {@code <archive>/data.pkl} (the pickled state dict) and one entry
 * {@code <archive>/data/<key>} per storage. The pickle is read by {@link TorchPickle}, which never
 * runs code; each tensor is a view of a storage (element offset, shape, strides), so tensors may
 * share a storage (tied embeddings) and need not be contiguous.
 *
 * <p>For a tensor, {@link TensorInfo#begin()}/{@link TensorInfo#end()} are the byte span it covers
 * inside its storage and {@link TensorInfo#dataStart()} is the storage's file offset. Contiguous
 * tensors decode exactly like safetensors ones; others are gathered element by element through
 * the same short-lived mappings.
 */
public final class TorchFile extends WeightsFile {
    /** Like the safetensors header limit: data.pkl of a 400B-parameter state dict is a few MB. */
    static final long MAX_PICKLE_BYTES = 100_000_000L;
    /** The magic number (as a pickled long) that starts a legacy, pre-1.6 torch.save file. */
    private static final byte[] LEGACY_MAGIC = {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46};

    /** Where a tensor's elements are: its storage's file offset and its view of that storage. */
    private record Layout(long storageStart, long offset, long[] shape, long[] stride, boolean contiguous, StoredZip.Entry storage) {}

    /** Storages (zip entry names) whose bytes matched their CRC-32: each is checked once, when first read. */
    private final java.util.Set<String> verified = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private final Map<String, TensorInfo> tensors;
    private final Map<String, Layout> layouts;
    private final byte[] fingerprint;

    private TorchFile(Path path, FileChannel channel, long fileSize, Map<String, TensorInfo> tensors, Map<String, Layout> layouts,
                      byte[] fingerprint) {
        super(path, channel, fileSize);
        this.tensors = tensors;
        this.layouts = layouts;
        this.fingerprint = fingerprint;
    }

    /** Opens and validates {@code file}; every problem is a {@link SafetensorsException} naming the file. */
    public static TorchFile open(Path file) {
        return open(file, TorchFile::parse);
    }

    private static TorchFile parse(Path file, FileChannel ch) throws IOException {
        String f = Msg.f(file);
        long size = ch.size();
        ByteBuffer head = ByteBuffer.allocate((int) Math.min(size, 8));
        readFully(ch, head, 0, file);
        byte[] h = head.array();
        if (h.length == 8 && java.util.Arrays.equals(h, LEGACY_MAGIC)) {
            throw new SafetensorsException(f + ": legacy torch.save format (torch < 1.6, or _use_new_zipfile_serialization=False)"
                    + " is not read; re-save it with torch.save under torch 1.6 or newer");
        }
        if (h.length == 8 && new String(h, java.nio.charset.StandardCharsets.US_ASCII).equals("version ")) {
            throw new SafetensorsException(f + ": a Git LFS pointer, not the weights; fetch them (git lfs pull) first");
        }
        if (h.length < 4 || h[0] != 'P' || h[1] != 'K') {
            throw new SafetensorsException(f + ": not a torch.save zip archive (it starts with 0x"
                    + java.util.HexFormat.of().formatHex(h, 0, Math.min(4, h.length)) + ", not PK)");
        }
        StoredZip zip = StoredZip.read(file, ch, size);
        StoredZip.Entry pkl = null;
        for (StoredZip.Entry e : zip.entries().values()) {
            String n = e.name();
            int slash = n.indexOf('/');
            if (slash > 0 && n.substring(slash).equals("/data.pkl")) {
                if (pkl != null) throw new SafetensorsException(f + ": two data.pkl entries (" + Msg.q(pkl.name()) + ", " + Msg.q(n) + ")");
                pkl = e;
            }
        }
        if (pkl == null) throw new SafetensorsException(f + ": zip archive without <archive>/data.pkl; not a torch.save checkpoint");
        String prefix = pkl.name().substring(0, pkl.name().length() - "data.pkl".length());
        StoredZip.Entry order = zip.entries().get(prefix + "byteorder");
        if (order != null) {
            byte[] o = order.size() <= 16 ? zip.readAll(order) : new byte[0];
            String s = new String(o, java.nio.charset.StandardCharsets.US_ASCII);
            if (!s.equals("little")) throw new SafetensorsException(f + ": byteorder " + Msg.q(s) + "; only little-endian checkpoints are read");
        }
        if (pkl.size() > MAX_PICKLE_BYTES) {
            throw new SafetensorsException(f + ": " + Msg.q(pkl.name()) + " of " + pkl.size() + " bytes exceeds the 100 MB limit");
        }
        byte[] pickle = zip.readAll(pkl);
        Map<String, TorchPickle.Tensor> dict = TorchPickle.stateDict(f + ": " + pkl.name(), pickle);

        Map<String, Long> storageStart = new HashMap<>();
        Map<String, StoredZip.Entry> storageEntry = new HashMap<>();
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        Map<String, Layout> layouts = new HashMap<>();
        for (Map.Entry<String, TorchPickle.Tensor> e : dict.entrySet()) {
            String name = e.getKey();
            TorchPickle.Tensor t = e.getValue();
            TorchPickle.Storage s = t.storage();
            String where = f + ": tensor " + Msg.q(name);
            DType dtype = s.dtype();
            Long start = storageStart.get(s.key());
            if (start == null) {
                StoredZip.Entry se = zip.entries().get(prefix + "data/" + s.key());
                if (se == null) throw new SafetensorsException(where + ": its storage " + Msg.q(prefix + "data/" + s.key()) + " is not in the archive");
                long bytes;
                try {
                    bytes = Math.multiplyExact(s.numel(), dtype.size());
                } catch (ArithmeticException ex) {
                    throw new SafetensorsException(where + ": storage of " + s.numel() + " elements overflows");
                }
                if (se.size() != bytes) {
                    throw new SafetensorsException(where + ": storage " + Msg.q(se.name()) + " holds " + se.size() + " bytes but "
                            + s.numel() + " x " + dtype + " needs " + bytes + "; truncated?");
                }
                start = zip.dataOffset(se);
                storageStart.put(s.key(), start);
                storageEntry.put(s.key(), se);
            }
            long[] shape = t.shape();
            long[] stride = t.stride();
            if (t.offset() > s.numel()) {
                throw new SafetensorsException(where + ": storage offset " + t.offset() + " lies past the end of its storage "
                        + Msg.q(prefix + "data/" + s.key()) + " of " + s.numel() + " elements");
            }
            long numel = 1;
            long last = t.offset(); // the last element the view touches
            try {
                for (long d : shape) numel = Math.multiplyExact(numel, d);
                Math.multiplyExact(numel, dtype.size());
                if (numel > 0) {
                    for (int i = 0; i < shape.length; i++) last = Math.addExact(last, Math.multiplyExact(shape[i] - 1, stride[i]));
                }
            } catch (ArithmeticException ex) {
                throw new SafetensorsException(where + ": absurd shape " + java.util.Arrays.toString(shape) + " / stride "
                        + java.util.Arrays.toString(stride) + " (element count overflows)");
            }
            if (numel > 0 && last >= s.numel() || numel == 0 && t.offset() > s.numel()) {
                throw new SafetensorsException(where + ": shape " + java.util.Arrays.toString(shape) + ", stride "
                        + java.util.Arrays.toString(stride) + " at offset " + t.offset() + " reaches element " + last
                        + " of a storage of " + s.numel() + " elements");
            }
            long begin = t.offset() * dtype.size();
            long end = numel == 0 ? begin : (last + 1) * dtype.size();
            tensors.put(name, new TensorInfo(name, dtype, shape.clone(), begin, end, file, start));
            layouts.put(name, new Layout(start, t.offset(), shape.clone(), stride.clone(), isContiguous(shape, stride),
                    storageEntry.get(s.key())));
        }
        byte[] dir = zip.directory();
        byte[] fp = new byte[pickle.length + dir.length];
        System.arraycopy(pickle, 0, fp, 0, pickle.length);
        System.arraycopy(dir, 0, fp, pickle.length, dir.length);
        return new TorchFile(file, ch, size, Collections.unmodifiableMap(tensors), layouts, fp);
    }

    /** Row-major with no gaps; dimensions of size 1 may have any stride. */
    static boolean isContiguous(long[] shape, long[] stride) {
        long expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 0) return true;
            if (shape[i] == 1) continue;
            if (stride[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    @Override
    public String format() {
        return "pytorch";
    }

    @Override
    public Map<String, TensorInfo> tensors() {
        return tensors;
    }

    @Override
    public byte[] fingerprint() {
        return fingerprint.clone();
    }

    /** True if the tensor's elements lie in c order without gaps (as in safetensors). */
    public boolean isContiguous(TensorInfo t) {
        Layout l = layouts.get(t.name());
        if (l == null || !t.file().equals(path)) throw new IllegalArgumentException("tensor " + Msg.q(t.name()) + " is not in " + Msg.f(path));
        return l.contiguous();
    }

    private Layout layout(TensorInfo t) {
        Layout l = layouts.get(t.name());
        if (l == null || !t.file().equals(path)) throw new IllegalArgumentException("tensor " + Msg.q(t.name()) + " is not in " + Msg.f(path));
        verify(t.name(), l);
        return l;
    }

    /**
     * The first read of a storage checks all of its bytes against the CRC-32 torch stored in the zip directory, so
     * a file whose weights changed after torch.save wrote it (bit rot, a bad copy, an edit that left the CRC stale)
     * is refused instead of analysed; provenance hashes that directory, CRCs included. About 10 GB/s (the JDK's
     * CRC32 is a hardware intrinsic), on pages the decoding reads next anyway.
     */
    private void verify(String tensor, Layout l) {
        StoredZip.Entry e = l.storage();
        if (verified.contains(e.name())) return;
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        for (long done = 0; done < e.size(); ) {
            long n = Math.min(MAX_MAP_BYTES, e.size() - done);
            MappedByteBuffer mb = map(tensor, l.storageStart() + done, n);
            try {
                crc.update(mb);
            } finally {
                Reference.reachabilityFence(mb);
                Unmapper.unmap(mb);
            }
            done += n;
        }
        if ((int) crc.getValue() != e.crc()) {
            throw new SafetensorsException(Msg.f(path) + ": zip entry " + Msg.q(e.name()) + " (storage of tensor " + Msg.q(tensor)
                    + ") does not match its CRC-32 (stored " + String.format("%08x", e.crc()) + ", computed "
                    + String.format("%08x", (int) crc.getValue()) + "): the weights changed after torch.save wrote them; refused");
        }
        verified.add(e.name());
    }

    /** How many storages (zip entries under data/) the tensors view. */
    public int storages() {
        return (int) layouts.values().stream().map(l -> l.storage().name()).distinct().count();
    }

    /** Every storage a tensor views, in the state dict's order, against its CRC-32 (each once, as a read would). */
    @Override
    public long verifyChecksums(org.depthlens.util.Progress progress) {
        Map<String, String> storages = new LinkedHashMap<>(); // zip entry -> first tensor viewing it, for the message
        long total = 0;
        for (String name : tensors.keySet()) {
            StoredZip.Entry e = layouts.get(name).storage();
            if (storages.putIfAbsent(e.name(), name) == null) total += e.size();
        }
        long done = 0;
        for (String name : storages.values()) {
            Layout l = layouts.get(name);
            verify(name, l);
            done += l.storage().size();
            progress.update(done, total, "CRC-32 of " + path.getFileName());
        }
        return total;
    }

    @Override
    public void readF32(TensorInfo t, long from, long count, FloatBuffer dst) {
        checkRange(t, from, count);
        checkRoom(t, count, dst);
        Layout l = layout(t);
        if (l.contiguous()) {
            readPacked(t.name(), t.dtype(), l.storageStart() + (l.offset() + from) * t.dtype().size(), count, dst);
        } else {
            gather(t, l, from, count, new Sink() {
                @Override
                void put(ByteBuffer src, int at, int i) {
                    dst.put(floatAt(t.dtype(), src, at));
                }
            });
        }
    }

    @Override
    void readF32ToAddress(TensorInfo t, long from, long count, long address, long maxStep) {
        checkRange(t, from, count);
        Layout l = layout(t);
        if (l.contiguous()) {
            readPackedToAddress(t.name(), t.dtype(), l.storageStart() + (l.offset() + from) * t.dtype().size(), count, address, maxStep);
            return;
        }
        long step = Math.max(1, Math.min(maxStep, MAX_STEP_ELEMS));
        for (long done = 0; done < count; done += step) {
            long n = Math.min(step, count - done);
            FloatBuffer out = NativeMemory.window(address + done * 4L, n * 4L).asFloatBuffer();
            gather(t, l, from + done, n, new Sink() {
                @Override
                void put(ByteBuffer src, int at, int i) {
                    out.put(i, floatAt(t.dtype(), src, at));
                }
            });
        }
    }

    @Override
    void readBytesChecked(TensorInfo t, long from, long count, ByteBuffer dst) {
        Layout l = layout(t);
        int es = t.dtype().size();
        if (l.contiguous()) {
            ByteBuffer d = dst.slice();
            d.limit((int) (count * es));
            readAt(t.name(), l.storageStart() + (l.offset() + from) * es, d);
            dst.position(dst.position() + d.position());
            return;
        }
        int base = dst.position();
        gather(t, l, from, count, new Sink() {
            @Override
            void put(ByteBuffer src, int at, int i) {
                for (int k = 0; k < es; k++) dst.put(base + i * es + k, src.get(at + k));
            }
        });
        dst.position(base + (int) (count * es));
    }

    @Override
    public long[] readLongs(TensorInfo t) {
        if (t.dtype().isFloat()) {
            throw new SafetensorsException(Msg.f(path) + ": tensor " + Msg.q(t.name()) + " is " + t.dtype() + ", not an integer type");
        }
        if (t.numel() > Integer.MAX_VALUE - 8) {
            throw new SafetensorsException(Msg.f(path) + ": tensor " + Msg.q(t.name()) + " has " + t.numel() + " elements, too many for a long[]");
        }
        long[] out = new long[(int) t.numel()];
        gather(t, layout(t), 0, out.length, new Sink() {
            @Override
            void put(ByteBuffer src, int at, int i) {
                out[i] = longAt(t.dtype(), src, at);
            }
        });
        return out;
    }

    /** Receives element {@code i} (counted from the first requested) at byte {@code at} of a mapped window. */
    private abstract static class Sink {
        abstract void put(ByteBuffer src, int at, int i);
    }

    /**
     * Elements {@code [from, from + count)} of the view in c order, each read where its strides put it.
     * One mapping covers the whole span the range touches when that fits in {@link #MAX_MAP_BYTES}
     * (every weight of a 70B model does); otherwise the window moves to each element it misses.
     */
    private void gather(TensorInfo t, Layout l, long from, long count, Sink sink) {
        if (count == 0) return;
        int rank = l.shape().length;
        long es = t.dtype().size();
        long[] idx = new long[rank];
        long rem = from;
        for (int d = rank - 1; d >= 0; d--) {
            idx[d] = rem % l.shape()[d];
            rem /= l.shape()[d];
        }
        long elem = l.offset();
        for (int d = 0; d < rank; d++) elem += idx[d] * l.stride()[d];
        // span of elements this range can touch: the whole tensor's span, a safe bound
        long lo = t.begin() / es;
        long hi = t.end() / es; // exclusive
        long winStart = -1;
        long winLen = 0;
        MappedByteBuffer mb = null;
        try {
            for (long i = 0; i < count; i++) {
                if (mb == null || elem < winStart || elem >= winStart + winLen) {
                    if (mb != null) Unmapper.unmap(mb);
                    mb = null;
                    long maxElems = MAX_MAP_BYTES / es;
                    if (hi - lo <= maxElems) {
                        winStart = lo;
                        winLen = hi - lo;
                    } else {
                        winStart = elem;
                        winLen = Math.min(maxElems, hi - elem);
                    }
                    mb = map(t.name(), l.storageStart() + winStart * es, winLen * es);
                    mb.order(ByteOrder.LITTLE_ENDIAN);
                }
                sink.put(mb, (int) ((elem - winStart) * es), (int) i);
                // advance the c-order index and the element position together
                for (int d = rank - 1; d >= 0; d--) {
                    if (++idx[d] < l.shape()[d]) {
                        elem += l.stride()[d];
                        break;
                    }
                    elem -= (l.shape()[d] - 1) * l.stride()[d];
                    idx[d] = 0;
                }
            }
        } finally {
            if (mb != null) {
                Reference.reachabilityFence(mb);
                Unmapper.unmap(mb);
            }
        }
    }
}
