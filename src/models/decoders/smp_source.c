/* TerraTorch's "smp" decoder source: smp decoders with their keys under
 * SMPDecoderWrapper's "_smp_decoder.". */
#include "models/decoders/smp.h"

#include "models/decoders/smp_blocks.h"

#define WRAPPED "_smp_decoder."

terracl_status tc_smp_unet(const terracl_value *first, const terracl_value *args, void *user,
                           terracl_module **out, terracl_error *err)
{
    (void)user;
    smp_accept_head_args(args, 0);
    return tc_smp_unet_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_fpn(const terracl_value *first, const terracl_value *args, void *user,
                          terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_fpn_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_deeplabv3(const terracl_value *first, const terracl_value *args,
                                void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_deeplabv3_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_deeplabv3plus(const terracl_value *first, const terracl_value *args,
                                    void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_deeplabv3plus_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_pspnet(const terracl_value *first, const terracl_value *args, void *user,
                             terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_pspnet_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_linknet(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_linknet_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_upernet(const terracl_value *first, const terracl_value *args, void *user,
                              terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_upernet_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_unetplusplus(const terracl_value *first, const terracl_value *args,
                                   void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_unetplusplus_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_pan(const terracl_value *first, const terracl_value *args, void *user,
                          terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_pan_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_manet(const terracl_value *first, const terracl_value *args, void *user,
                            terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_manet_decoder_at(first, args, WRAPPED, out, err);
}

terracl_status tc_smp_segformer(const terracl_value *first, const terracl_value *args,
                                void *user, terracl_module **out, terracl_error *err)
{
    (void)user;
    return tc_smp_segformer_decoder_at(first, args, WRAPPED, out, err);
}
