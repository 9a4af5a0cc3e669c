# tools/herd: the herd generator (herd_clients) and the capacity-bounded
# service (herd_service). Plain userspace C, no BPF.
HERD_COMMON := tools/herd/herd_common.c
HERD_HDRS   := tools/herd/herd_common.h

$(BUILD)/tools/herd_service: tools/herd/herd_service.c $(HERD_COMMON) $(HERD_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itools/herd $(CFLAGS) $< $(HERD_COMMON) -o $@ $(LDFLAGS) -lpthread

$(BUILD)/tools/herd_clients: tools/herd/herd_clients.c $(HERD_COMMON) $(HERD_HDRS) | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) -Itools/herd $(CFLAGS) $< $(HERD_COMMON) -o $@ $(LDFLAGS) -lpthread

TOOL_BINS += $(BUILD)/tools/herd_service $(BUILD)/tools/herd_clients
