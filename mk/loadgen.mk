# tools/lab/loadgen: open-loop multi-source TCP request load (herd wire format)
$(BUILD)/tools/loadgen: tools/lab/loadgen.c tools/herd/herd_common.c tools/herd/herd_common.h | $(BUILD)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CPPFLAGS) -Itools/herd $(CFLAGS) $< tools/herd/herd_common.c -o $@ $(LDFLAGS)

TOOL_BINS += $(BUILD)/tools/loadgen
