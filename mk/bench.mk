# per-packet cost benchmark: corral_xdp vs trivial_drop under BPF_PROG_TEST_RUN
PKTCOST := $(BUILD)/tools/pktcost

$(PKTCOST): tools/bench/pktcost.c $(TLIB_SRCS) $(BUILD)/libcorral.a $(USER_HDRS) $(BPF_HDRS) \
		$(BUILD)/corral.skel.h $(BUILD)/trivial.skel.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) $< $(TLIB_SRCS) -o $@ $(LDFLAGS) \
		$(BUILD)/libcorral.a $(LIBS) -lmicrohttpd -lm -lpthread

TOOL_BINS += $(PKTCOST)
