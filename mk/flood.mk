# flood benchmark: generator (XDP live frames or AF_PACKET) and victim responder
FLOOD_GEN := $(BUILD)/tools/flood_gen

$(FLOOD_GEN): tools/bench/flood_gen.c bpf/gen_frame.h $(BUILD)/gen_flood.skel.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $< -o $@ $(LDFLAGS) $(LIBS) -lpthread

TOOL_BINS += $(FLOOD_GEN)
