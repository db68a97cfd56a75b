import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordingFile;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the JFR execution samples that bench/profile/run recorded and counts them per 1,000
 * requests over the measured load: all samples, the top frames (where the CPU was), and the frame
 * of the proxy's own code nearest to the top (which of its methods led there). Not part of the
 * product.
 *
 * usage: java Samples.java RECORDING.jfr FROM_EPOCH_MS TO_EPOCH_MS REQUESTS [TOP [SITE...]]
 *
 * <p>Each SITE (a substring of a frame's {@code class.method}) adds the share of the samples whose
 * stack holds a frame matching it: the time spent in that code and everything it called.
 */
public class Samples {

    private static final String OWN = "org.jmapauthproxy.";

    public static void main(String[] args) throws Exception {
        Instant from = Instant.ofEpochMilli(Long.parseLong(args[1]));
        Instant to = Instant.ofEpochMilli(Long.parseLong(args[2]));
        double perThousand = 1000.0 / Long.parseLong(args[3]);
        int top = args.length > 4 ? Integer.parseInt(args[4]) : 25;
        Map<String, Integer> topFrames = new HashMap<>();
        Map<String, Integer> ownFrames = new HashMap<>();
        List<String> sites = args.length > 5 ? List.of(args).subList(5, args.length) : List.of();
        Map<String, Integer> siteSamples = new LinkedHashMap<>();
        sites.forEach(site -> siteSamples.put(site, 0));
        int samples = 0;
        Map<String, Long> allocatedBy = new HashMap<>();
        Map<String, Long> allocatedUnder = new HashMap<>();
        long allocated = 0;
        try (RecordingFile recording = new RecordingFile(Path.of(args[0]))) {
            while (recording.hasMoreEvents()) {
                RecordedEvent event = recording.readEvent();
                if (event.getStartTime().isBefore(from) || event.getStartTime().isAfter(to)
                        || event.getStackTrace() == null || event.getStackTrace().getFrames().isEmpty()) {
                    continue;
                }
                List<RecordedFrame> frames = event.getStackTrace().getFrames();
                if (event.getEventType().getName().equals("jdk.ObjectAllocationSample")) {
                    long weight = event.getLong("weight");
                    allocated += weight;
                    allocatedBy.merge(event.getClass("objectClass").getName() + " in " + name(frames.get(0)), weight, Long::sum);
                    allocatedUnder.merge(nearestOwn(frames), weight, Long::sum);
                    continue;
                }
                if (!event.getEventType().getName().equals("jdk.ExecutionSample")) {
                    continue;
                }
                samples++;
                topFrames.merge(name(frames.get(0)), 1, Integer::sum);
                ownFrames.merge(nearestOwn(frames), 1, Integer::sum);
                for (String site : sites) {
                    if (frames.stream().anyMatch(frame -> name(frame).contains(site))) {
                        siteSamples.merge(site, 1, Integer::sum);
                    }
                }
            }
        }
        System.out.printf("JFR execution samples: %d in the load, %.2f per 1,000 requests%n", samples, samples * perThousand);
        System.out.printf("top frames (samples per 1,000 requests, share):%n");
        print(topFrames, top, perThousand, samples);
        System.out.printf("nearest frame of the proxy's own code (samples per 1,000 requests, share):%n");
        print(ownFrames, top, perThousand, samples);
        if (!sites.isEmpty()) {
            System.out.printf("samples whose stack holds each site (samples per 1,000 requests, share):%n");
            for (Map.Entry<String, Integer> site : siteSamples.entrySet()) {
                System.out.printf("  %6.2f %5.1f %%  %s%n", site.getValue() * perThousand,
                        100.0 * site.getValue() / Math.max(1, samples), site.getKey());
            }
        }
        if (allocated > 0) {
            double perRequest = perThousand / 1000.0;
            System.out.printf("JFR allocation samples: %.0f bytes per request (each sample weighs the bytes its thread"
                    + " allocated since the one before)%n", allocated * perRequest);
            System.out.printf("allocated by class and top frame (bytes per request, share):%n");
            print(allocatedBy, top, perRequest, allocated);
            System.out.printf("allocated under the nearest frame of the proxy's own code (bytes per request, share):%n");
            print(allocatedUnder, top, perRequest, allocated);
        }
    }


    private static String nearestOwn(List<RecordedFrame> frames) {
        for (RecordedFrame frame : frames) {
            if (name(frame).startsWith(OWN)) {
                return name(frame);
            }
        }
        return "(no frame of the proxy's code)";
    }

    private static String name(RecordedFrame frame) {
        return frame.getMethod().getType().getName() + "." + frame.getMethod().getName();
    }

    /** The largest {@code top} entries: each scaled (per 1,000 requests, or per request) and as a share of {@code total}. */
    private static <N extends Number & Comparable<N>> void print(Map<String, N> counts, int top, double scale, long total) {
        List<Map.Entry<String, N>> entries = new ArrayList<>(counts.entrySet());
        entries.sort(Map.Entry.<String, N>comparingByValue().reversed());
        for (Map.Entry<String, N> entry : entries.subList(0, Math.min(top, entries.size()))) {
            System.out.printf("  %7.2f %5.1f %%  %s%n", entry.getValue().doubleValue() * scale,
                    100.0 * entry.getValue().doubleValue() / Math.max(1, total), entry.getKey());
        }
    }
}
